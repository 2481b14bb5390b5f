/**
 * Reducing an HTML page to readable text for `web_fetch`: scripts, styles and comments dropped,
 * tags turned into line breaks where they are blocks, link text kept, entities decoded, white
 * space collapsed. A single linear scan — no regular expression can backtrack over the page.
 *
 * @module
 */

const SKIPPED = new Set([
  "script",
  "style",
  "noscript",
  "template",
  "svg",
  "math",
  "iframe",
  "object",
]);
const BLOCKS = new Set([
  "address",
  "article",
  "aside",
  "blockquote",
  "br",
  "dd",
  "details",
  "div",
  "dl",
  "dt",
  "fieldset",
  "figcaption",
  "figure",
  "footer",
  "form",
  "header",
  "hr",
  "li",
  "main",
  "nav",
  "ol",
  "section",
  "summary",
  "table",
  "tbody",
  "thead",
  "tfoot",
  "title",
  "tr",
  "ul",
]);
const PARAGRAPHS = new Set(["p", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol"]);
const CELLS = new Set(["td", "th"]);
const NAMED_ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
  copy: "©",
  reg: "®",
  trade: "™",
  hellip: "…",
  mdash: "—",
  ndash: "–",
  lsquo: "‘",
  rsquo: "’",
  ldquo: "“",
  rdquo: "”",
  laquo: "«",
  raquo: "»",
  middot: "·",
  bull: "•",
  times: "×",
  euro: "€",
};

/**
 * Reduces HTML to readable plain text.
 *
 * @example Reduce a small page
 * ```ts
 * import { htmlToText } from "./html_text.ts";
 * htmlToText("<h1>Hi</h1><script>x()</script><p>See <a href='/a'>the docs</a>.</p>");
 * // "# Hi\n\nSee the docs."
 * ```
 */
export function htmlToText(html: string): string {
  const out = new _TextBuilder();
  let pre = 0;
  let i = 0;
  // Where the text not yet given to `out` starts: a "<" that opens no tag stays in the text.
  let textStart = 0;
  const n = html.length;
  while (i < n) {
    const lt = html.indexOf("<", i);
    const next = lt < 0 ? 0 : html.charCodeAt(lt + 1);
    const closing = next === SLASH;
    const opensTag = lt >= 0 &&
      (next === BANG || next === QUESTION || _isLetter(html.charCodeAt(lt + (closing ? 2 : 1))));
    if (lt >= 0 && !opensTag) {
      i = lt + 1;
      continue;
    }
    if (lt < 0) break;
    if (lt > textStart) out.text(_decodeEntities(html.slice(textStart, lt)), pre > 0);
    i = lt;
    if (html.startsWith("<!--", i)) {
      const end = html.indexOf("-->", i + 4);
      i = textStart = end < 0 ? n : end + 3;
      continue;
    }
    if (next === BANG || next === QUESTION) {
      const end = html.indexOf(">", i);
      i = textStart = end < 0 ? n : end + 1;
      continue;
    }
    const nameStart = closing ? i + 2 : i + 1;
    let nameEnd = nameStart;
    while (nameEnd < n && _isNameChar(html.charCodeAt(nameEnd))) nameEnd++;
    const name = html.slice(nameStart, nameEnd).toLowerCase();
    const gt = html.indexOf(">", nameEnd);
    i = textStart = gt < 0 ? n : gt + 1;
    if (!closing && SKIPPED.has(name) && html[gt - 1] !== "/") {
      // `name` is one of SKIPPED: a fixed literal, so this search cannot backtrack.
      const close = new RegExp(`</${name}\\s*>`, "gi");
      close.lastIndex = i;
      const found = close.exec(html);
      i = textStart = found ? close.lastIndex : n;
      continue;
    }
    if (name === "pre") pre = Math.max(0, pre + (closing ? -1 : 1));
    if (PARAGRAPHS.has(name)) out.breaks(2);
    else if (BLOCKS.has(name)) out.breaks(1);
    else if (CELLS.has(name) && !closing) out.text(" ", false);
    if (!closing) {
      if (name === "li") out.text("- ", true);
      else if (name.length === 2 && name[0] === "h" && name[1] >= "1" && name[1] <= "6") {
        out.text("#".repeat(Number(name[1])) + " ", true);
      }
    }
  }
  if (textStart < n) out.text(_decodeEntities(html.slice(textStart)), pre > 0);
  return out.toString();
}

const SLASH = 0x2f;
const BANG = 0x21;
const QUESTION = 0x3f;

function _isLetter(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

function _isNameChar(code: number): boolean {
  return _isLetter(code) || (code >= 0x30 && code <= 0x39) || code === 0x2d;
}

/** Accumulates text with collapsed white space and at most one blank line in a row. */
class _TextBuilder {
  #parts: string[] = [];
  #newlines = 2; // at the start, as after a blank line: no leading breaks
  #pendingSpace = false;

  text(s: string, preformatted: boolean): void {
    if (preformatted) {
      if (s.length === 0) return;
      if (this.#pendingSpace && this.#newlines === 0) this.#parts.push(" ");
      this.#pendingSpace = false;
      this.#parts.push(s);
      // Counted backwards: a /\n*$/ search restarts at every newline run (quadratic on "\n\n…x").
      let trailing = 0;
      while (trailing < s.length && s.charCodeAt(s.length - 1 - trailing) === 10) trailing++;
      this.#newlines = trailing === s.length ? Math.min(2, this.#newlines + trailing) : trailing;
      return;
    }
    const collapsed = s.replace(/\s+/g, " ");
    if (collapsed.trim() === "") {
      if (collapsed.length > 0) this.#pendingSpace = true;
      return;
    }
    if ((this.#pendingSpace || collapsed.startsWith(" ")) && this.#newlines === 0) {
      this.#parts.push(" ");
    }
    this.#parts.push(collapsed.trim());
    this.#pendingSpace = collapsed.endsWith(" ");
    this.#newlines = 0;
  }

  breaks(count: 1 | 2): void {
    this.#pendingSpace = false;
    while (this.#newlines < count) {
      this.#parts.push("\n");
      this.#newlines++;
    }
  }

  toString(): string {
    return this.#parts.join("").trim();
  }
}

function _decodeEntities(s: string): string {
  if (!s.includes("&")) return s;
  return s.replace(
    /&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z]{2,8});/g,
    (whole, body: string) => {
      if (body[0] === "#") {
        const code = body[1] === "x" || body[1] === "X"
          ? parseInt(body.slice(2), 16)
          : parseInt(body.slice(1), 10);
        return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
      }
      return NAMED_ENTITIES[body.toLowerCase()] ?? whole;
    },
  );
}
