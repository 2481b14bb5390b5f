/**
 * Finding every process a `bash` call started, however deep: each call puts a unique marker in its
 * command's environment, which every descendant inherits, and `_killMarked` ends all processes
 * carrying it (Linux `/proc`; elsewhere it does nothing). This reaches the children of killed
 * shells and background jobs, which killing dax's direct children alone does not.
 *
 * @module
 */

/** The environment variable that marks a `bash` call's processes. */
export const _MARKER_VAR = "CODEMODE_BASH_CALL";

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = haystack.indexOf(needle[0]); i >= 0; i = haystack.indexOf(needle[0], i + 1)) {
    if (i + needle.length > haystack.length) return false;
    for (let j = 1; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** SIGKILLs every process whose environment holds `_MARKER_VAR=marker`; returns how many. */
export async function _killMarked(marker: string): Promise<number> {
  if (Deno.build.os !== "linux") return 0;
  const needle = new TextEncoder().encode(`${_MARKER_VAR}=${marker}\0`);
  let killed = 0;
  try {
    for await (const entry of Deno.readDir("/proc")) {
      if (!/^\d+$/.test(entry.name)) continue;
      try {
        const environ = await Deno.readFile(`/proc/${entry.name}/environ`);
        if (contains(environ, needle)) {
          Deno.kill(Number(entry.name), "SIGKILL");
          killed++;
        }
      } catch {
        // Gone already, or not ours to read.
      }
    }
  } catch {
    // No /proc access: only dax's own kill applies.
  }
  return killed;
}
