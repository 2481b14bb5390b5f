/**
 * The program's own errors — `ToolError` (a failed tool call, with the site of the call),
 * `ImportError`, `LimitError` — and how an error the program ended with is reported to the host.
 *
 * Serialised with `Function.prototype.toString` into the program Worker's module (see
 * `child_source.ts`), so it must not refer to anything outside its own body.
 *
 * @module
 */

/** What `_makeErrors` gives the runtime. */
export interface _Errors {
  /** A `ToolError`: `tool` failed with `message`; `site` holds the stack of the call. */
  tool(tool: string, message: string, site: Error): Error;
  /** An `ImportError` (the program imported something it may not). */
  importError(message: string): Error;
  /** A `LimitError` (the program hit a limit it can see, e.g. its output). */
  limitError(message: string): Error;
  /** The error of a program stopped at its heap limit. */
  memoryError(memoryMb: number): Error;
  /**
   * The error a program failed with, in the shape the host reads (`_WireError`); `clean` puts
   * the program's name in place of its URL in stacks, `format` formats a thrown non-error.
   */
  wireError(
    err: unknown,
    clean: (stack: string | undefined) => string | undefined,
    format: (values: unknown[]) => string,
  ): Record<string, unknown>;
}

/** Returns the program's error classes and the reporting of an error to the host. */
export function _makeErrors(): _Errors {
  // Never assign `stack`: Deno then replaces the error with a plain one when it leaves import().
  class ToolError extends Error {
    tool: string;
    site: Error;
    constructor(tool: string, message: string, site: Error) {
      super(message.startsWith(`${tool}:`) ? message : `${tool}: ${message}`);
      this.name = "ToolError";
      this.tool = tool;
      this.site = site;
    }
  }
  class ImportError extends Error {
    constructor(message: string) {
      super(message);
      this.name = "ImportError";
    }
  }
  class LimitError extends Error {
    constructor(message: string) {
      super(message);
      this.name = "LimitError";
    }
  }

  function wireError(
    err: unknown,
    clean: (stack: string | undefined) => string | undefined,
    format: (values: unknown[]) => string,
  ): Record<string, unknown> {
    if (err instanceof ToolError) {
      return {
        name: err.name,
        message: err.message,
        stack: clean(err.site.stack),
        tool: err.tool,
        kind: "tool",
      };
    }
    if (err instanceof ImportError) {
      return { name: err.name, message: err.message, stack: clean(err.stack), kind: "import" };
    }
    if (err instanceof LimitError) {
      return { name: err.name, message: err.message, kind: "limit" };
    }
    if (err instanceof Error) {
      let stack: string | undefined;
      let message: string;
      let name = "Error";
      try {
        stack = clean(err.stack);
        message = String(err.message);
        name = String(err.name);
      } catch {
        message = "an error whose details could not be read";
      }
      return { name, message, stack };
    }
    try {
      return { name: "Error", message: `Uncaught ${format([err])}` };
    } catch {
      return { name: "Error", message: "Uncaught a value that cannot be shown" };
    }
  }

  return {
    tool: (tool, message, site) => new ToolError(tool, message, site),
    importError: (message) => new ImportError(message),
    limitError: (message) => new LimitError(message),
    memoryError: (memoryMb) =>
      new RangeError(`Out of memory: the program's heap reached its ${memoryMb} MB limit`),
    wireError,
  };
}
