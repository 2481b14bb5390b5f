/**
 * The `mcpServers` configuration format every MCP client reads (Claude Desktop, Claude Code,
 * Cursor, …): parsing with errors that name the server and the field, and loading from a file.
 *
 * @module
 */

import { dirname, isAbsolute, resolve } from "node:path";
import { toIdentifier } from "../tools/names.ts";

/**
 * A server started as a child process that speaks MCP over its stdin and stdout.
 *
 * @example A stdio server
 * ```ts
 * import type { McpStdioServerConfig } from "./config.ts";
 * const memory: McpStdioServerConfig = {
 *   command: "npx",
 *   args: ["-y", "@modelcontextprotocol/server-memory"],
 *   env: { MEMORY_FILE_PATH: "/tmp/memory.jsonl" },
 * };
 * ```
 */
export interface McpStdioServerConfig {
  /** The program to start, looked up on `PATH` when it has no slash. */
  command: string;
  /** Its arguments. */
  args?: string[];
  /** Variables set over a safe default environment (`HOME`, `PATH`, `USER`, …, not the whole parent one). */
  env?: Record<string, string>;
  /** Its working directory; {@linkcode loadMcpConfig} resolves a relative one against the file's folder. */
  cwd?: string;
}

/**
 * A server reached over Streamable HTTP.
 *
 * @example An HTTP server with a token
 * ```ts
 * import type { McpHttpServerConfig } from "./config.ts";
 * const remote: McpHttpServerConfig = {
 *   url: "https://mcp.example.com/mcp",
 *   headers: { Authorization: "Bearer …" },
 * };
 * ```
 */
export interface McpHttpServerConfig {
  /** The endpoint, `http:` or `https:`. */
  url: string;
  /** Headers sent with every request, e.g. `Authorization`. */
  headers?: Record<string, string>;
}

/**
 * One server: stdio (`command`) or Streamable HTTP (`url`).
 *
 * @example Tell the two kinds apart
 * ```ts
 * import type { McpServerConfig } from "./config.ts";
 * const kind = (s: McpServerConfig) => ("url" in s ? "http" : "stdio");
 * ```
 */
export type McpServerConfig = McpStdioServerConfig | McpHttpServerConfig;

/**
 * A parsed configuration: servers by name, disabled ones left out.
 *
 * @example Count servers
 * ```ts
 * import type { McpConfig } from "./config.ts";
 * const count = (c: McpConfig) => Object.keys(c.mcpServers).length;
 * ```
 */
export interface McpConfig {
  /** The servers, by the name their tools are namespaced under (`<name>.<tool>`). */
  mcpServers: Record<string, McpServerConfig>;
}

const HTTP_TYPES = new Set(["http", "streamable-http", "streamableHttp", "streamable_http"]);

/**
 * Checks and normalizes a parsed `mcpServers` configuration.
 *
 * Accepts `{ "mcpServers": { name: { command, args?, env?, cwd? } | { url, headers? } } }` (also
 * under the key `servers`, as VS Code writes it). Unknown fields (`autoApprove`, `timeout`, …) are
 * ignored, `"disabled": true` leaves a server out, and an optional `type` must agree with the
 * fields (`"stdio"`, or `"http"` / `"streamable-http"`; `"sse"` is refused). Two server names that
 * become the same identifier (`a-b`, `a_b`) are refused, since the program could not tell them
 * apart.
 *
 * @param json The parsed JSON.
 * @returns The configuration with only the fields codemode uses.
 * @throws {TypeError} naming the server and the field that is wrong, and how to fix it.
 *
 * @example Parse a configuration
 * ```ts
 * import { parseMcpConfig } from "./config.ts";
 * const config = parseMcpConfig({
 *   mcpServers: { everything: { command: "npx", args: ["-y", "@modelcontextprotocol/server-everything"] } },
 * });
 * console.log(Object.keys(config.mcpServers)); // ["everything"]
 * ```
 */
export function parseMcpConfig(json: unknown): McpConfig {
  if (!_isRecord(json)) {
    throw new TypeError(
      `MCP config must be a JSON object like {"mcpServers": {"<name>": {"command": "…"}}}, got ${
        _kind(json)
      }.`,
    );
  }
  const servers = json.mcpServers ?? json.servers;
  if (!_isRecord(servers)) {
    throw new TypeError(
      `MCP config needs an "mcpServers" object mapping server names to {"command", "args"} or {"url"}` +
        (servers === undefined ? "; the key is missing." : `, got ${_kind(servers)}.`),
    );
  }
  const out: Record<string, McpServerConfig> = {};
  const byIdentifier = new Map<string, string>();
  for (const [name, entry] of Object.entries(servers)) {
    if (name.length === 0) {
      throw new TypeError(`MCP config: a server has an empty name; give it a name like "files".`);
    }
    const server = _parseServer(name, entry);
    if (server === undefined) continue;
    const id = toIdentifier(name);
    const other = byIdentifier.get(id);
    if (other !== undefined) {
      throw new TypeError(
        `MCP config: servers "${other}" and "${name}" would both be called "${id}" in programs; ` +
          `rename one of them.`,
      );
    }
    byIdentifier.set(id, name);
    out[name] = server;
  }
  return { mcpServers: out };
}

/** Options for {@linkcode loadMcpConfig}. */
export interface LoadMcpConfigOptions {
  /**
   * Resolve a relative `cwd` of a stdio server against the configuration file's folder.
   * @default true
   */
  resolveCwd?: boolean;
}

/**
 * Reads and parses an `mcpServers` configuration file.
 *
 * @param path The JSON file.
 * @param options See {@linkcode LoadMcpConfigOptions}.
 * @returns The parsed configuration.
 * @throws {Deno.errors.NotFound} when the file does not exist.
 * @throws {SyntaxError} when it is not JSON, naming the file.
 * @throws {TypeError} when its content is not a valid configuration (see {@linkcode parseMcpConfig}).
 *
 * @example Load a configuration file
 * ```ts ignore
 * import { loadMcpConfig } from "./config.ts";
 * const config = await loadMcpConfig("mcp.json");
 * ```
 */
export async function loadMcpConfig(
  path: string | URL,
  options: LoadMcpConfigOptions = {},
): Promise<McpConfig> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(
        `MCP config file "${path}" does not exist; check the path given to --mcp.`,
        { cause: error },
      );
    }
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SyntaxError(
      `MCP config file "${path}" is not valid JSON (${(error as Error).message}); fix the syntax.`,
      { cause: error },
    );
  }
  let config: McpConfig;
  try {
    config = parseMcpConfig(json);
  } catch (error) {
    throw new TypeError(`${(error as Error).message} (in "${path}")`, { cause: error });
  }
  if (options.resolveCwd ?? true) {
    const file = path instanceof URL ? path.pathname : path;
    const base = dirname(resolve(file));
    for (const server of Object.values(config.mcpServers)) {
      if ("command" in server && server.cwd !== undefined && !isAbsolute(server.cwd)) {
        server.cwd = resolve(base, server.cwd);
      }
    }
  }
  return config;
}

function _parseServer(name: string, entry: unknown): McpServerConfig | undefined {
  const at = `MCP config: server "${name}"`;
  if (!_isRecord(entry)) {
    throw new TypeError(
      `${at} must be an object with "command" (stdio) or "url" (HTTP), got ${_kind(entry)}.`,
    );
  }
  if (entry.disabled === true) return undefined;
  const type = entry.type;
  if (type !== undefined) {
    if (typeof type !== "string") {
      throw new TypeError(`${at}: "type" must be "stdio" or "http", got ${_kind(type)}.`);
    }
    if (type === "sse") {
      throw new TypeError(
        `${at}: the "sse" transport is deprecated and not supported; point "url" at the ` +
          `server's Streamable HTTP endpoint and drop "type".`,
      );
    }
    if (type !== "stdio" && !HTTP_TYPES.has(type)) {
      throw new TypeError(
        `${at}: unknown "type" "${type}"; use "stdio" or "http", or leave it out.`,
      );
    }
  }
  const hasCommand = entry.command !== undefined;
  const hasUrl = entry.url !== undefined;
  if (hasCommand && hasUrl) {
    throw new TypeError(`${at} has both "command" and "url"; keep one (stdio or HTTP).`);
  }
  if (!hasCommand && !hasUrl) {
    throw new TypeError(
      `${at} has neither "command" nor "url"; add "command" (and "args") to start a stdio ` +
        `server, or "url" to reach an HTTP one.`,
    );
  }
  if (hasCommand) {
    if (type !== undefined && type !== "stdio") {
      throw new TypeError(`${at}: "type" is "${type}" but the server has "command"; use "url".`);
    }
    return _parseStdio(at, entry);
  }
  if (type === "stdio") {
    throw new TypeError(`${at}: "type" is "stdio" but the server has "url"; use "command".`);
  }
  return _parseHttp(at, entry);
}

function _parseStdio(at: string, entry: Record<string, unknown>): McpStdioServerConfig {
  const { command, args, env, cwd } = entry;
  if (typeof command !== "string" || command.trim().length === 0) {
    throw new TypeError(
      `${at}: "command" must be a non-empty string like "npx", got ${_kind(command)}.`,
    );
  }
  const out: McpStdioServerConfig = { command };
  if (args !== undefined) {
    if (!Array.isArray(args)) {
      throw new TypeError(`${at}: "args" must be an array of strings, got ${_kind(args)}.`);
    }
    args.forEach((arg, i) => {
      if (typeof arg !== "string") {
        throw new TypeError(
          `${at}: "args" must be an array of strings, got ${_kind(arg)} at index ${i}; ` +
            `quote it.`,
        );
      }
    });
    out.args = [...args] as string[];
  }
  if (env !== undefined) out.env = _stringRecord(at, "env", env);
  if (cwd !== undefined) {
    if (typeof cwd !== "string" || cwd.length === 0) {
      throw new TypeError(`${at}: "cwd" must be a directory path string, got ${_kind(cwd)}.`);
    }
    out.cwd = cwd;
  }
  return out;
}

function _parseHttp(at: string, entry: Record<string, unknown>): McpHttpServerConfig {
  const { url, headers } = entry;
  if (typeof url !== "string") {
    throw new TypeError(`${at}: "url" must be a string like "http://127.0.0.1:3001/mcp".`);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(
      `${at}: "url" "${url}" is not a valid URL; write it like "https://host/mcp".`,
    );
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new TypeError(`${at}: "url" must be http: or https:, got "${parsed.protocol}".`);
  }
  const out: McpHttpServerConfig = { url };
  if (headers !== undefined) out.headers = _stringRecord(at, "headers", headers);
  return out;
}

function _stringRecord(at: string, field: string, value: unknown): Record<string, string> {
  if (!_isRecord(value)) {
    throw new TypeError(`${at}: "${field}" must be an object of strings, got ${_kind(value)}.`);
  }
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== "string") {
      throw new TypeError(
        `${at}: "${field}.${key}" must be a string, got ${_kind(v)}; quote it (e.g. "${v}").`,
      );
    }
    out[key] = v;
  }
  return out;
}

function _isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function _kind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}
