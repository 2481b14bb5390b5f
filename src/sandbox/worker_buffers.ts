/**
 * A run's own budget for buffers and wasm memory, which heap limits do not see. Programs of one
 * tenant share a sandbox process, and the OS cap on its memory with it; without a budget of its
 * own, one run's `ArrayBuffer` bomb would take the room its neighbours (and a Worker starting
 * beside it) need. The constructors that allocate — `ArrayBuffer`, `SharedArrayBuffer`, every
 * typed array, `WebAssembly.Memory` and its `grow`, a resizable buffer's `resize` — are wrapped so
 * each allocation is counted against `maxBytes` and refused past it with the same `RangeError`
 * V8 throws when memory runs out; what the collector frees is given back.
 *
 * Serialised with `Function.prototype.toString` into the program Worker's module (see
 * `child_source.ts`), so it must not refer to anything outside its own body. What allocates
 * inside the runtime (a `TextEncoder`, a `Blob`) is not counted: the OS cap on the process still
 * holds there.
 *
 * @module
 */

/** Puts the counting constructors on `scope`; allocations past `maxBytes` throw a `RangeError`. */
export function _guardBuffers(scope: Record<string, unknown>, maxBytes: number): void {
  let used = 0;
  const OriginalArrayBuffer = ArrayBuffer;
  const OriginalSharedArrayBuffer = typeof SharedArrayBuffer === "function"
    ? SharedArrayBuffer
    : undefined;
  const LOCKED = { writable: false, configurable: false } as const;
  const construct = Reflect.construct;
  const apply = Reflect.apply;
  const RangeErrorCtor = RangeError;
  const freed = new FinalizationRegistry<number>((bytes) => {
    used -= bytes;
  });
  const charge = (bytes: number): void => {
    if (!(bytes > 0)) return;
    if (used + bytes > maxBytes) {
      throw new RangeErrorCtor(
        `Array buffer allocation failed: ${bytes} more bytes would take this program's buffers past its ${
          Math.round(maxBytes / 1024 / 1024)
        } MB memory limit`,
      );
    }
    used += bytes;
  };
  const track = <T extends object>(value: T, bytes: number): T => {
    if (bytes > 0) freed.register(value, bytes);
    return value;
  };
  const byteLength = (value: unknown): number => {
    const n = Number(value);
    return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
  };
  const wrap = (name: string, size: (args: unknown[]) => number) => {
    const original = scope[name] as (new (...args: unknown[]) => object) | undefined;
    if (typeof original !== "function") return;
    const guarded = new Proxy(original, {
      construct(target, args, newTarget) {
        const bytes = size(args);
        charge(bytes);
        try {
          return track(construct(target, args, newTarget), bytes);
        } catch (err) {
          used -= bytes;
          throw err;
        }
      },
    });
    try {
      Object.defineProperty(scope, name, { value: guarded, ...LOCKED });
    } catch {
      // Not configurable here: the OS cap on the process still holds.
    }
  };
  const bufferSize = (args: unknown[]) => {
    const options = args[1] as { maxByteLength?: unknown } | undefined;
    // A resizable buffer counts at its most, up front.
    return Math.max(byteLength(args[0]), byteLength(options?.maxByteLength));
  };
  wrap("ArrayBuffer", bufferSize);
  wrap("SharedArrayBuffer", bufferSize);
  const typed: [string, number][] = [
    ["Int8Array", 1],
    ["Uint8Array", 1],
    ["Uint8ClampedArray", 1],
    ["Int16Array", 2],
    ["Uint16Array", 2],
    ["Float16Array", 2],
    ["Int32Array", 4],
    ["Uint32Array", 4],
    ["Float32Array", 4],
    ["Float64Array", 8],
    ["BigInt64Array", 8],
    ["BigUint64Array", 8],
  ];
  for (const [name, width] of typed) {
    wrap(name, (args) => {
      const first = args[0];
      // Over an existing buffer a typed array allocates nothing; from a length or a list, it does.
      if (typeof first === "object" && first !== null) {
        if (first instanceof OriginalArrayBuffer) return 0;
        if (OriginalSharedArrayBuffer && first instanceof OriginalSharedArrayBuffer) return 0;
        const length = (first as { length?: unknown }).length;
        return byteLength(length) * width;
      }
      return byteLength(first) * width;
    });
  }
  const wasm = scope.WebAssembly as
    | { Memory?: new (d: { initial?: unknown }) => object }
    | undefined;
  if (wasm && typeof wasm.Memory === "function") {
    const Memory = wasm.Memory;
    const PAGE = 65_536;
    const grow = (Memory.prototype as { grow: (pages: number) => number }).grow;
    const pages = new WeakMap<object, number>();
    const guarded = new Proxy(Memory, {
      construct(target, args, newTarget) {
        const initial = byteLength((args[0] as { initial?: unknown } | undefined)?.initial);
        charge(initial * PAGE);
        const memory = construct(target, args, newTarget) as object;
        pages.set(memory, initial);
        return track(memory, initial * PAGE);
      },
    });
    try {
      Object.defineProperty(Memory.prototype, "grow", {
        value: function (this: object, delta: number) {
          const more = byteLength(delta);
          charge(more * PAGE);
          try {
            const before = apply(grow, this, [delta]);
            pages.set(this, (pages.get(this) ?? 0) + more);
            freed.register(this, more * PAGE);
            return before;
          } catch (err) {
            used -= more * PAGE;
            throw err;
          }
        },
        ...LOCKED,
      });
      Object.defineProperty(wasm, "Memory", { value: guarded, ...LOCKED });
    } catch {
      // Not configurable here: the OS cap on the process still holds.
    }
  }
}
