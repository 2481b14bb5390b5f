/**
 * The one place codemode's version is written (the CLI's `--version`, the MCP server and client
 * info). Keep it equal to deno.json's "version".
 *
 * @module
 */

/** codemode's version. */
export const VERSION = "0.1.0";
