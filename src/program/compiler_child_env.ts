/**
 * Gives the compiler process an empty `process.env` before TypeScript loads. TypeScript reads
 * a few variables (`TSC_WATCHFILE`, ...) as it starts; the process has no environment
 * permission, so each read would throw. Imported first by `compiler_child.ts`.
 *
 * @module
 */

Object.defineProperty(globalThis.process, "env", {
  value: {},
  configurable: true,
  writable: true,
});
