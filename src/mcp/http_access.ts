/**
 * Who may talk to the HTTP MCP endpoint: the Host and Origin checks that keep web pages out (DNS
 * rebinding), and the bearer token, compared in constant time.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * Whether `address` (a `--host` value or a URL's hostname) is this machine only: `localhost`,
 * `127.0.0.0/8` or `::1`.
 *
 * @example
 * ```ts
 * import { _isLoopback } from "./http_access.ts";
 * _isLoopback("127.0.0.1"); // true
 * _isLoopback("0.0.0.0"); // false
 * ```
 */
export function _isLoopback(address: string): boolean {
  const a = address.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  return a === "localhost" || a === "::1" || /^127(\.\d{1,3}){3}$/.test(a);
}

/** A Host header's or an Origin's host name, or null when it is not one. */
function _hostname(value: string, isOrigin: boolean): string | null {
  try {
    return new URL(isOrigin ? value : `http://${value}`).hostname;
  } catch {
    return null;
  }
}

/**
 * Why a request's Host or Origin is refused, or null. Served on loopback, both must name this
 * machine (a page elsewhere that reaches 127.0.0.1 through DNS rebinding sends its own Host).
 * Served beyond loopback (where a token is required), any Host is accepted and an Origin must be
 * this machine or the Host itself.
 */
export function _originProblem(headers: Headers, loopbackOnly: boolean): string | null {
  const host = headers.get("host");
  const origin = headers.get("origin");
  const hostName = host === null ? null : _hostname(host, false);
  if (loopbackOnly && host !== null && (hostName === null || !_isLoopback(hostName))) {
    return `Forbidden: Host "${host}" is not this machine; only local clients may connect`;
  }
  if (origin) {
    const originName = _hostname(origin, true);
    const allowed = originName !== null &&
      (_isLoopback(originName) || (!loopbackOnly && originName === hostName));
    if (!allowed) return `Forbidden: Origin "${origin}" may not call this server`;
  }
  return null;
}

async function _digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/**
 * Checks `Authorization: Bearer <token>` against one token. Both sides are hashed first, so the
 * comparison takes the same time whatever the token and whatever was sent.
 *
 * @example
 * ```ts
 * import { _BearerCheck } from "./http_access.ts";
 * const check = new _BearerCheck("s3cret");
 * await check.verdict(new Headers({ authorization: "Bearer s3cret" })); // "ok"
 * ```
 */
export class _BearerCheck {
  #expected: Promise<Uint8Array>;

  /**
   * @param token The token clients must send.
   * @throws {TypeError} When `token` is empty.
   */
  constructor(token: string) {
    if (token === "") throw new TypeError("the token is empty: set a non-empty token");
    this.#expected = _digest(token);
  }

  /** `"ok"`, `"missing"` (no bearer token sent) or `"wrong"`. */
  async verdict(headers: Headers): Promise<"ok" | "missing" | "wrong"> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.get("authorization") ?? "");
    if (match === null) return "missing";
    const [got, expected] = await Promise.all([_digest(match[1]), this.#expected]);
    let diff = 0;
    for (let i = 0; i < expected.length; i++) diff |= got[i] ^ expected[i];
    return diff === 0 ? "ok" : "wrong";
  }
}

/** The 401 answer: `WWW-Authenticate: Bearer` (RFC 6750), with `invalid_token` for a wrong one. */
export function _unauthorized(verdict: "missing" | "wrong"): Response {
  const challenge = verdict === "wrong"
    ? `Bearer realm="codemode", error="invalid_token"`
    : `Bearer realm="codemode"`;
  const message = verdict === "wrong"
    ? "Unauthorized: the bearer token is not the server's; send the token from its --token-file " +
      "or CODEMODE_TOKEN"
    : "Unauthorized: send Authorization: Bearer <token>, the token from the server's " +
      "--token-file or CODEMODE_TOKEN";
  return Response.json(
    { jsonrpc: "2.0", error: { code: -32000, message }, id: null },
    { status: 401, headers: { "WWW-Authenticate": challenge } },
  );
}
