/**
 * A deterministic generator of realistic tool sets (SaaS-style MCP servers: namespaces, CRUD and
 * domain verbs, varied JSON Schemas with enums, arrays, nested objects, nullable and optional
 * fields, some output schemas), with a natural-language query naming each tool's purpose.
 *
 * @module
 */

import type { JsonSchema, Tool } from "../../src/types.ts";

interface Service {
  ns: string;
  label: string;
  parent: [string, string]; // [parameter, words]
  camel?: boolean;
  objects: [string, string[]][]; // [object, extra verbs]
}

const SERVICES: Service[] = [
  {
    ns: "github",
    label: "GitHub",
    parent: ["repo", "repository"],
    objects: [
      ["issue", ["close", "reopen", "assign"]],
      ["pull_request", ["merge", "request_review"]],
      ["branch", []],
      ["release", ["publish"]],
      ["workflow_run", ["rerun", "cancel"]],
      ["gist", []],
    ],
  },
  {
    ns: "jira",
    label: "Jira",
    parent: ["project_key", "project"],
    objects: [
      ["issue", ["transition", "assign"]],
      ["sprint", ["start", "complete"]],
      ["board", []],
      ["worklog", []],
      ["epic", []],
    ],
  },
  {
    ns: "slack",
    label: "Slack",
    parent: ["workspace", "workspace"],
    objects: [
      ["channel", ["archive", "join", "invite"]],
      ["message", ["send", "pin", "react"]],
      ["reminder", []],
      ["user_group", []],
    ],
  },
  {
    ns: "gmail",
    label: "Gmail",
    parent: ["mailbox", "mailbox"],
    camel: true,
    objects: [
      ["message", ["send", "reply", "forward", "mark_read"]],
      ["draft", ["send"]],
      ["label", []],
      ["filter", []],
    ],
  },
  {
    ns: "calendar",
    label: "Google Calendar",
    parent: ["calendar_id", "calendar"],
    camel: true,
    objects: [
      ["event", ["rsvp", "reschedule"]],
      ["calendar", ["share"]],
      ["availability", []],
    ],
  },
  {
    ns: "drive",
    label: "Google Drive",
    parent: ["drive_id", "shared drive"],
    camel: true,
    objects: [
      ["file", ["upload", "download", "copy", "move"]],
      ["folder", []],
      ["permission", []],
      ["revision", []],
    ],
  },
  {
    ns: "notion",
    label: "Notion",
    parent: ["workspace", "workspace"],
    objects: [
      ["page", ["duplicate"]],
      ["database", ["query"]],
      ["block", ["append"]],
      ["comment", []],
    ],
  },
  {
    ns: "stripe",
    label: "Stripe",
    parent: ["account", "account"],
    objects: [
      ["customer", []],
      ["invoice", ["finalize", "void", "pay"]],
      ["subscription", ["cancel", "pause", "resume"]],
      ["refund", []],
      ["payment_intent", ["capture", "confirm"]],
      ["product", []],
    ],
  },
  {
    ns: "postgres",
    label: "PostgreSQL",
    parent: ["database", "database"],
    objects: [
      ["table", ["describe", "truncate", "vacuum"]],
      ["row", ["upsert"]],
      ["index", ["reindex"]],
      ["schema", []],
      ["role", ["grant"]],
    ],
  },
  {
    ns: "k8s",
    label: "Kubernetes",
    parent: ["namespace", "namespace"],
    camel: true,
    objects: [
      ["pod", ["logs", "exec"]],
      ["deployment", ["scale", "restart", "rollback"]],
      ["service", []],
      ["config_map", []],
      ["secret", []],
      ["cron_job", ["suspend"]],
    ],
  },
  {
    ns: "s3",
    label: "Amazon S3",
    parent: ["bucket", "bucket"],
    objects: [
      ["object", ["copy", "presign"]],
      ["bucket_policy", []],
      ["lifecycle_rule", []],
    ],
  },
  {
    ns: "docker",
    label: "Docker",
    parent: ["host", "Docker host"],
    objects: [
      ["container", ["start", "stop", "restart", "inspect"]],
      ["image", ["pull", "push", "tag"]],
      ["volume", ["prune"]],
      ["network", ["connect"]],
    ],
  },
  {
    ns: "salesforce",
    label: "Salesforce",
    parent: ["org", "org"],
    camel: true,
    objects: [
      ["account", []],
      ["contact", []],
      ["lead", ["convert"]],
      ["opportunity", ["close"]],
      ["case", ["escalate"]],
    ],
  },
  {
    ns: "zendesk",
    label: "Zendesk",
    parent: ["subdomain", "help desk"],
    objects: [
      ["ticket", ["solve", "merge"]],
      ["macro", ["apply"]],
      ["organization", []],
      ["article", []],
    ],
  },
  {
    ns: "linear",
    label: "Linear",
    parent: ["team_id", "team"],
    camel: true,
    objects: [
      ["issue", ["archive"]],
      ["cycle", []],
      ["project", []],
      ["roadmap", []],
    ],
  },
  {
    ns: "confluence",
    label: "Confluence",
    parent: ["space_key", "space"],
    objects: [
      ["page", ["move", "export"]],
      ["space", []],
      ["attachment", []],
      ["blog_post", []],
    ],
  },
  {
    ns: "trello",
    label: "Trello",
    parent: ["board_id", "board"],
    objects: [
      ["card", ["move", "archive"]],
      ["list", []],
      ["checklist", []],
      ["label", []],
    ],
  },
  {
    ns: "twilio",
    label: "Twilio",
    parent: ["account_sid", "account"],
    camel: true,
    objects: [
      ["sms", ["send"]],
      ["call", ["hangup"]],
      ["phone_number", ["buy", "release"]],
      ["recording", []],
    ],
  },
  {
    ns: "shopify",
    label: "Shopify",
    parent: ["shop", "store"],
    objects: [
      ["product", ["publish"]],
      ["order", ["fulfill", "refund"]],
      ["customer", []],
      ["inventory_level", ["adjust"]],
      ["discount_code", []],
    ],
  },
  {
    ns: "datadog",
    label: "Datadog",
    parent: ["site", "site"],
    objects: [
      ["monitor", ["mute", "unmute"]],
      ["dashboard", []],
      ["metric", ["query"]],
      ["log", ["query"]],
      ["downtime", []],
    ],
  },
  {
    ns: "pagerduty",
    label: "PagerDuty",
    parent: ["service_id", "service"],
    camel: true,
    objects: [
      ["incident", ["acknowledge", "resolve", "escalate"]],
      ["schedule", []],
      ["escalation_policy", []],
      ["on_call", []],
    ],
  },
  {
    ns: "sentry",
    label: "Sentry",
    parent: ["organization", "organization"],
    objects: [
      ["issue", ["resolve", "ignore"]],
      ["event", []],
      ["release", ["deploy"]],
      ["alert_rule", []],
    ],
  },
  {
    ns: "spotify",
    label: "Spotify",
    parent: ["market", "market"],
    camel: true,
    objects: [
      ["playlist", ["follow"]],
      ["track", ["play", "queue"]],
      ["album", ["save"]],
      ["artist", []],
    ],
  },
  {
    ns: "hubspot",
    label: "HubSpot",
    parent: ["portal_id", "portal"],
    objects: [
      ["deal", []],
      ["company", []],
      ["ticket", []],
      ["email_campaign", ["schedule"]],
    ],
  },
  {
    ns: "figma",
    label: "Figma",
    parent: ["file_key", "design file"],
    camel: true,
    objects: [
      ["frame", ["export"]],
      ["component", []],
      ["comment", ["resolve"]],
      ["version", []],
    ],
  },
];

const CRUD = ["create", "get", "list", "update", "delete", "search"];

/** What each verb does, for descriptions. */
const VERB_TEXT: Record<string, string[]> = {
  create: ["Create a new {o} in a {S} {p}.", "Creates a {o} in {S} and returns it with its ID."],
  get: ["Get a single {S} {o} by its ID, with all fields.", "Fetch one {o} from {S} by ID."],
  list: [
    "List {os} in a {S} {p}, newest first. Paginated: pass the returned cursor for the next page.",
    "Returns a page of {os} from {S}; use `cursor` to continue.",
  ],
  update: [
    "Update fields of an existing {S} {o}; omitted fields are left unchanged.",
    "Modify a {o} in {S}. Only the given fields change.",
  ],
  delete: [
    "Permanently delete a {S} {o}. This cannot be undone.",
    "Deletes the {o} from {S}.",
  ],
  search: [
    "Search {S} {os} by free text and filters; returns the best matches first.",
    "Full-text search over {os} in {S}.",
  ],
};

/** Query phrasings of each CRUD verb: how someone names the purpose. */
const VERB_QUERY: Record<string, string[]> = {
  create: ["create a new", "add a", "make a new"],
  get: ["get the", "fetch a", "show details of a"],
  list: ["list all", "list the", "show all"],
  update: ["update a", "change a", "edit the"],
  delete: ["delete a", "remove the", "delete the"],
  search: ["search", "find", "search for"],
};

/** One generated tool and a query naming its purpose. */
export interface SyntheticTool {
  tool: Tool;
  query: string;
}

function _rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function _key(name: string, camel: boolean | undefined): string {
  return camel ? name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) : name;
}

function _plural(word: string): string {
  if (/(s|x|ch|sh)$/.test(word)) return word + "es";
  if (/[^aeiou]y$/.test(word)) return word.slice(0, -1) + "ies";
  return word + "s";
}

function _objectSchema(obj: string, svc: Service, pick: () => number): JsonSchema {
  const k = (n: string) => _key(n, svc.camel);
  const properties: Record<string, JsonSchema> = {
    [k("id")]: { type: "string", description: `The ${obj.replaceAll("_", " ")} ID` },
    [k("name")]: { type: "string" },
    [k("status")]: { type: "string", enum: ["open", "active", "closed", "archived"] },
    [k("created_at")]: { type: "string", format: "date-time" },
  };
  if (pick() < 0.5) properties[k("tags")] = { type: "array", items: { type: "string" } };
  if (pick() < 0.4) {
    properties[k("owner")] = {
      type: ["object", "null"],
      properties: { [k("id")]: { type: "string" }, [k("email")]: { type: "string" } },
      required: [k("id")],
    };
  }
  return { type: "object", properties, required: [k("id"), k("name"), k("status")] };
}

function _inputSchema(verb: string, obj: string, svc: Service, pick: () => number): JsonSchema {
  const k = (n: string) => _key(n, svc.camel);
  const words = obj.replaceAll("_", " ");
  const properties: Record<string, JsonSchema> = {
    [k(svc.parent[0])]: { type: "string", description: `The ${svc.parent[1]}` },
  };
  const required = [k(svc.parent[0])];
  const idKey = k(`${obj}_id`);
  if (verb === "create" || verb === "update") {
    properties[k("name")] = { type: "string", description: `Name of the ${words}` };
    properties[k("description")] = { type: "string" };
    if (pick() < 0.6) {
      properties[k("priority")] = {
        type: "string",
        enum: ["low", "medium", "high", "urgent"],
        default: "medium",
      };
    }
    if (pick() < 0.5) properties[k("labels")] = { type: "array", items: { type: "string" } };
    if (pick() < 0.4) {
      properties[k("metadata")] = {
        type: "object",
        additionalProperties: { type: "string" },
        description: "Free-form key/value pairs",
      };
    }
    if (pick() < 0.3) properties[k("due_date")] = { type: ["string", "null"], format: "date" };
    if (verb === "create") required.push(k("name"));
  }
  if (verb !== "create" && verb !== "list" && verb !== "search") {
    properties[idKey] = { type: "string", description: `ID of the ${words}` };
    required.push(idKey);
  }
  if (verb === "list" || verb === "search") {
    if (verb === "search") {
      properties[k("query")] = { type: "string", description: "Words to match" };
      required.push(k("query"));
    }
    properties[k("limit")] = { type: "integer", minimum: 1, maximum: 100, default: 25 };
    properties[k("cursor")] = { type: "string", description: "Cursor from the previous page" };
    if (pick() < 0.5) {
      properties[k("filter")] = {
        type: "object",
        properties: {
          [k("status")]: { type: "string", enum: ["open", "closed", "all"] },
          [k("created_after")]: { type: "string", format: "date-time" },
          [k("owner")]: { anyOf: [{ type: "string" }, { type: "null" }] },
        },
      };
    }
  }
  if (verb === "delete" && pick() < 0.5) {
    properties[k("force")] = { type: "boolean", default: false, description: "Skip checks" };
  }
  return { type: "object", properties, required };
}

const EXTRA_TEXT: Record<string, string> = {
  close: "Close the {o}, optionally with a comment explaining why.",
  merge: "Merge the {o} using the chosen merge method.",
  send: "Send the {o} to its recipients.",
  cancel: "Cancel the {o}; it stops at the next safe point.",
  restart: "Restart the {o} by rolling its pods.",
  scale: "Scale the {o} to the given number of replicas.",
  upload: "Upload a {o} from base64 content.",
  download: "Download the {o}'s content as base64.",
};

/**
 * `count` realistic tools (default 1,000), deterministic for a seed: namespaced SaaS tools first
 * (CRUD plus domain verbs such as merge, refund, scale), each with a query naming its purpose.
 */
export function syntheticTools(count = 1_000, seed = 7): SyntheticTool[] {
  const pick = _rng(seed);
  const out: SyntheticTool[] = [];
  const all: [Service, string, string][] = [];
  for (const svc of SERVICES) {
    for (const [obj, extras] of svc.objects) {
      for (const verb of [...CRUD, ...extras]) all.push([svc, obj, verb]);
    }
  }
  for (let round = 0; out.length < count; round++) {
    for (const [svc, obj, verb] of all) {
      if (out.length >= count) break;
      const suffix = round === 0 ? "" : `_v${round + 1}`;
      const words = obj.replaceAll("_", " ");
      const o = verb === "list" || verb === "search" ? _plural(words) : words;
      const member = `${verb}_${verb === "list" || verb === "search" ? _plural(obj) : obj}` +
        suffix;
      const crud = VERB_TEXT[verb];
      const template = crud ? crud[Math.floor(pick() * crud.length)] : EXTRA_TEXT[verb] ??
        `${verb[0].toUpperCase()}${verb.slice(1).replaceAll("_", " ")} a {o}.`;
      const description = template
        .replaceAll("{os}", _plural(words))
        .replaceAll("{o}", words)
        .replaceAll("{S}", svc.label)
        .replaceAll("{p}", svc.parent[1]) +
        (round === 0 ? "" : ` (API version ${round + 1})`);
      const inputSchema = _inputSchema(crud ? verb : "update", obj, svc, pick);
      const tool: Tool = {
        name: `${svc.ns}.${member}`,
        description,
        inputSchema,
        execute: () => ({}),
      };
      if (verb === "get" || verb === "create") tool.outputSchema = _objectSchema(obj, svc, pick);
      if (verb === "list" && pick() < 0.7) {
        tool.outputSchema = {
          type: "object",
          properties: {
            items: { type: "array", items: _objectSchema(obj, svc, pick) },
            next_cursor: { type: ["string", "null"] },
          },
          required: ["items"],
        };
      }
      const phrasing = VERB_QUERY[verb] ?? [verb.replaceAll("_", " ") + " a"];
      const query = `${phrasing[Math.floor(pick() * phrasing.length)]} ${svc.label} ${o}` +
        (round === 0 ? "" : ` api version ${round + 1}`);
      out.push({ tool, query });
    }
  }
  return out;
}
