/**
 * The eight pipeline patterns the description teaches, each a short program that type-checks
 * against the example tools below (tests/describe_test.ts compiles every one).
 *
 * Example tools: `crm.get_user({ id })` → `{ id, name, email, vip }`;
 * `crm.list_orders({ userId, cursor? })` → `{ items: { id, status, total }[], nextCursor? }`;
 * `search_docs({ query })` → `{ ids }`; `get_doc({ id })` → `{ id, title, body }`;
 * `read_file({ path })` → `{ content }`; `notify({ to, text })` → `{ ok }`.
 *
 * @module
 */

/** One pattern: a title and a module-level program using top-level await. */
export interface _Pattern {
  title: string;
  code: string;
}

/** The eight patterns, in teaching order. */
export const _PATTERNS: readonly _Pattern[] = [
  {
    title: "Sequential chain: each call uses the previous result",
    code: `const user = await crm.get_user({ id: "u1" });
const orders = await crm.list_orders({ userId: user.id });
print(user.name, orders.items.length);`,
  },
  {
    title: "Fan-out/fan-in: independent calls in parallel, then combine",
    code: `const { ids } = await search_docs({ query: "refund policy" });
const docs = await Promise.all(ids.map((id) => get_doc({ id })));
print(docs.map((d) => d.title).join("; "));`,
  },
  {
    title: "DAG: parallel stages feed a conditional fan-out",
    code:
      `const [u, o] = await Promise.all([crm.get_user({ id: "u1" }), crm.list_orders({ userId: "u1" })]);
const late = o.items.filter((x) => x.status === "late");
if (u.vip) await Promise.all(late.map((x) => notify({ to: u.email, text: \`\${x.id} is late\` })));
print(late.length, "late");`,
  },
  {
    title: "Conditional branch: the data picks the next call",
    code: `const user = await crm.get_user({ id: "u1" });
if (user.vip) await notify({ to: user.email, text: "Thanks!" });
else print("not VIP:", user.name);`,
  },
  {
    title: "Pagination: follow the cursor until it ends (with a cap)",
    code: `const all: { id: string; total: number }[] = [];
let cursor: string | undefined;
do {
  const page = await crm.list_orders({ userId: "u1", cursor });
  all.push(...page.items);
  cursor = page.nextCursor;
} while (cursor && all.length < 10_000);
print(all.length, "orders");`,
  },
  {
    title: "Error recovery: catch a failed call, fall back",
    code: `let text: string;
try {
  text = (await read_file({ path: "notes.md" })).content;
} catch (e) {
  print("fallback:", e);
  text = (await get_doc({ id: "notes" })).body;
}
print(text.slice(0, 200));`,
  },
  {
    title: "Data transformation: parse, filter, aggregate in code; print only the result",
    code: `const csv = (await read_file({ path: "sales.csv" })).content;
const totals: Record<string, number> = {};
for (const line of csv.trim().split("\\n").slice(1)) {
  const [region, amount] = line.split(",");
  totals[region] = (totals[region] ?? 0) + Number(amount);
}
print(Object.entries(totals).sort((a, b) => b[1] - a[1]).slice(0, 3));`,
  },
  {
    title: "Controlled concurrency: many calls, at most 5 at once, failures kept",
    code: `const ids = Array.from({ length: 200 }, (_, i) => \`doc\${i}\`);
const res = await gatherLimited(ids.map((id) => () => get_doc({ id })), 5, { settle: true });
print(res.filter((r) => r.status === "fulfilled").length, "of", ids.length, "fetched");`,
  },
];
