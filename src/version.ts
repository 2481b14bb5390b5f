/**
 * codemode's version, read from deno.json (its one definition, which JSR publishes): the CLI's
 * `--version`, the MCP server's and client's info.
 *
 * @module
 */

import config from "../deno.json" with { type: "json" };

/** codemode's version. */
export const VERSION: string = config.version;
