/**
 * The `web_fetch` built-in tool: an HTTP request to an allowed host, HTML reduced to text.
 *
 * @module
 */

import type { Tool, ToolContext } from "../../types.ts";
import { htmlToText } from "../html_text.ts";
import { _field } from "./_input.ts";

/** Bytes of a response body read at most; the rest is dropped and `truncated` set. */
export const WEB_FETCH_MAX_BYTES = 5_000_000;
/** A request (redirects included) still running after this long is aborted. */
export const WEB_FETCH_TIMEOUT_MS = 30_000;
/** Redirects followed at most. */
export const WEB_FETCH_MAX_REDIRECTS = 10;

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** What `web_fetch` returns. */
export interface WebFetchResult {
  /** The final URL, after redirects. */
  url: string;
  /** The HTTP status code. */
  status: number;
  /** Response headers, names in lower case. */
  headers: Record<string, string>;
  /** The body as text; HTML reduced to readable text; a note for binary content. */
  text: string;
  /** True when the body was larger than the cap and cut. */
  truncated: boolean;
}

/** An `allowNet` entry: a host name, with a port when the entry named one. */
export interface _AllowedHost {
  hostname: string;
  port?: string;
}

/**
 * Creates the `web_fetch` tool, allowed to reach only the hosts listed (`"example.com"` allows
 * any port of that host, `"localhost:8080"` only that port).
 *
 * @example Fetch a page from an allowed host (needs the network, so not run as a test)
 * ```ts ignore
 * import { webFetchTool } from "./web_fetch.ts";
 * const tool = webFetchTool(["example.com"]);
 * const page = await tool.execute({ url: "https://example.com/" }, {
 *   signal: new AbortController().signal,
 *   name: "web_fetch",
 * });
 * ```
 */
export function webFetchTool(allowNet: readonly string[]): Tool {
  const allowed = allowNet.map(_parseAllowed);
  const list = allowNet.join(", ");
  return {
    name: "web_fetch",
    description: `Fetch a URL over HTTP(S), only from the allowed hosts (${list}; no other host ` +
      `and no local files can be reached), returning status, headers and the body as text ` +
      `(HTML reduced to readable text).`,
    inputSchema: {
      type: "object",
      properties: {
        url: {
          type: "string",
          description: `Absolute http:// or https:// URL on an allowed host (${list}).`,
        },
        method: {
          type: "string",
          enum: METHODS,
          description: 'HTTP method. Default: "GET".',
        },
        headers: {
          type: "object",
          additionalProperties: { type: "string" },
          description: 'Request headers, e.g. { "accept": "application/json" }.',
        },
        body: {
          type: "string",
          description: "Request body (not allowed with GET or HEAD).",
        },
      },
      required: ["url"],
      additionalProperties: false,
    },
    outputSchema: {
      type: "object",
      properties: {
        url: { type: "string", description: "The final URL, after redirects." },
        status: { type: "integer", description: "HTTP status code, e.g. 200 or 404." },
        headers: {
          type: "object",
          additionalProperties: { type: "string" },
          description: "Response headers, names in lower case.",
        },
        text: {
          type: "string",
          description: "The body as text; HTML pages reduced to readable text (scripts, styles " +
            "and tags removed, link text kept); a short note instead of binary content.",
        },
        truncated: {
          type: "boolean",
          description: `True when the body passed ${WEB_FETCH_MAX_BYTES} bytes and was cut.`,
        },
      },
      required: ["url", "status", "headers", "text", "truncated"],
      additionalProperties: false,
    },
    execute: (input: unknown, context: ToolContext) =>
      _webFetch(allowed, list, input, context.signal),
  };
}

/** Parses one `allowNet` entry, throwing a `TypeError` that shows the expected form. */
export function _parseAllowed(entry: string): _AllowedHost {
  const bad = () =>
    new TypeError(
      `allowNet entry ${JSON.stringify(entry)} is not a host: use "example.com" (any port) ` +
        `or "localhost:8080" (that port only), without a scheme or path`,
    );
  if (typeof entry !== "string") throw bad();
  const text = entry.trim();
  const match = /^(\[[0-9A-Fa-f:.]+\]|[^\s/:@?#[\]]+)(?::(\d{1,5}))?$/.exec(text);
  if (!match) throw bad();
  let hostname: string;
  try {
    hostname = new URL(`http://${match[1]}/`).hostname;
  } catch {
    throw bad();
  }
  return match[2] === undefined ? { hostname } : { hostname, port: String(Number(match[2])) };
}

function _check(allowed: readonly _AllowedHost[], list: string, url: URL, asked: string): void {
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(
      `web_fetch: ${JSON.stringify(asked)} is not an http(s) URL: only http:// and https:// ` +
        `URLs on the allowed hosts (${list}) can be fetched`,
    );
  }
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  const ok = allowed.some((a) => a.hostname === url.hostname && (!a.port || a.port === port));
  if (!ok) {
    throw new RangeError(
      `web_fetch: host "${url.hostname}:${port}" (in ${url.href}) is not on the allowed hosts ` +
        `list (${list}): fetch a URL on one of those hosts, or ask the user to allow this one ` +
        `(--allow-net=${url.host})`,
    );
  }
}

async function _webFetch(
  allowed: readonly _AllowedHost[],
  list: string,
  input: unknown,
  signal?: AbortSignal,
): Promise<WebFetchResult> {
  const tool = "web_fetch";
  const asked = _field(tool, input, "url", "string", true)!;
  let method = (_field(tool, input, "method", "string") ?? "GET").toUpperCase();
  if (!METHODS.includes(method)) {
    throw new TypeError(`${tool}: method "${method}" is not supported: use ${METHODS.join(", ")}`);
  }
  const headers = new Headers();
  for (const [name, value] of Object.entries(_field(tool, input, "headers", "object") ?? {})) {
    if (typeof value !== "string") {
      throw new TypeError(`${tool}: header "${name}" must be a string, got ${typeof value}`);
    }
    headers.set(name, value);
  }
  let body = _field(tool, input, "body", "string");
  if (body !== undefined && (method === "GET" || method === "HEAD")) {
    throw new TypeError(`${tool}: a ${method} request cannot have a body: use POST or PUT`);
  }
  let url: URL;
  try {
    url = new URL(asked);
  } catch {
    throw new TypeError(
      `${tool}: ${JSON.stringify(asked)} is not a valid absolute URL: pass e.g. ` +
        `"https://${allowed[0]?.hostname ?? "example.com"}/"`,
    );
  }
  _check(allowed, list, url, asked);
  signal?.throwIfAborted();
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal!.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(() => {
    controller.abort(
      new Error(`${tool}: ${url.href} did not answer within ${WEB_FETCH_TIMEOUT_MS / 1000} s`),
    );
  }, WEB_FETCH_TIMEOUT_MS);
  try {
    for (let hop = 0;; hop++) {
      let response: Response;
      try {
        response = await fetch(url, {
          method,
          headers,
          body,
          redirect: "manual",
          signal: controller.signal,
        });
      } catch (error) {
        if (controller.signal.aborted) throw controller.signal.reason;
        throw new Error(`${tool}: could not fetch ${url.href}: ${(error as Error).message}`);
      }
      const location = response.headers.get("location");
      if (REDIRECTS.has(response.status) && location !== null) {
        await response.body?.cancel();
        if (hop >= WEB_FETCH_MAX_REDIRECTS) {
          throw new RangeError(
            `${tool}: more than ${WEB_FETCH_MAX_REDIRECTS} redirects from ${asked}: ` +
              `fetch the final URL directly`,
          );
        }
        const next = new URL(location, url);
        _check(allowed, list, next, next.href);
        const post = method === "POST" && (response.status === 301 || response.status === 302);
        if (response.status === 303 || post) {
          if (method !== "HEAD") method = "GET";
          body = undefined;
          headers.delete("content-type");
        }
        if (next.origin !== url.origin) {
          headers.delete("authorization");
          headers.delete("cookie");
        }
        url = next;
        continue;
      }
      const { bytes, truncated } = await _readCapped(response, controller.signal);
      const result: WebFetchResult = {
        url: url.href,
        status: response.status,
        headers: Object.fromEntries(response.headers),
        text: _bodyText(bytes, response.headers.get("content-type")),
        truncated,
      };
      if (truncated) {
        result.text += `\n[web_fetch: body cut at ${WEB_FETCH_MAX_BYTES} bytes]`;
      }
      return result;
    }
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}

async function _readCapped(
  response: Response,
  signal: AbortSignal,
): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  if (response.body === null) return { bytes: new Uint8Array(), truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const room = WEB_FETCH_MAX_BYTES - size;
      chunks.push(value.length <= room ? value : value.subarray(0, room));
      size += Math.min(room, value.length);
      if (value.length > room) {
        truncated = true;
        await reader.cancel();
        break;
      }
    }
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw error;
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) (bytes.set(chunk, at), at += chunk.length);
  return { bytes, truncated };
}

function _bodyText(bytes: Uint8Array, contentType: string | null): string {
  if (bytes.length === 0) return "";
  const type = (contentType ?? "").split(";")[0].trim().toLowerCase();
  const textual = type === ""
    ? !bytes.subarray(0, 1024).includes(0)
    : /^text\/|[+/](json|xml|javascript|ecmascript|yaml|toml|csv)$|^application\/x-www-form/
      .test(type);
  if (!textual) {
    return `[web_fetch: binary content (${type || "unknown type"}, ${bytes.length} bytes) not ` +
      `shown]`;
  }
  const charset = /charset="?([^";\s]+)/i.exec(contentType ?? "")?.[1];
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset ?? "utf-8");
  } catch {
    decoder = new TextDecoder();
  }
  const text = decoder.decode(bytes);
  const html = type === "text/html" || type === "application/xhtml+xml" ||
    (type === "" && /^\s*<(!doctype html|html)/i.test(text));
  return html ? htmlToText(text) : text;
}
