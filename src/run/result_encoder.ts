/**
 * How a tool's result is put on the channel: as JSON when JSON carries it unchanged (the fast
 * path: the host splices it into the reply), as a V8 structured clone otherwise, or refused with
 * words the program reads when it cannot travel or is over the result limit.
 *
 * @module
 */

import v8 from "node:v8";
import { _isPlainJson, _PLAIN_JSON_BUDGET } from "../sandbox/value_codec.ts";
import { _thrownText } from "./call_checks.ts";

/** A result ready to send, or why it cannot be. */
export type _EncodedResult =
  | { json: string; bytes: number }
  | { clone: Uint8Array; bytes: number }
  | { refused: string };

/** Encodes the reply to call `id` whose tool returned `value`. Never throws. */
export function _encodeResult(id: number, value: unknown, maxResultBytes: number): _EncodedResult {
  const v = value === undefined ? null : value;
  let encoded: _EncodedResult;
  try {
    if (_isPlainJson(v, _PLAIN_JSON_BUDGET)) {
      const json = JSON.stringify(v);
      encoded = { json: `{"t":"res","id":${id},"ok":true,"v":${json}}`, bytes: json.length };
    } else {
      const clone = v8.serialize({ t: "res", id, ok: true, v: value });
      encoded = { clone, bytes: clone.length };
    }
  } catch (err) {
    const what = typeof value === "function" || typeof value === "symbol"
      ? `returned a ${typeof value}, which cannot be sent to the program`
      : `returned a value that cannot be sent to the program (${_thrownText(err)})`;
    return {
      refused: `${what}; return data: objects, arrays, strings, numbers, Uint8Array, Date…`,
    };
  }
  if (encoded.bytes > maxResultBytes) {
    return {
      refused:
        `returned ${encoded.bytes} bytes, over the ${maxResultBytes}-byte result limit; ask for less (a smaller range, a filter, a page)`,
    };
  }
  return encoded;
}
