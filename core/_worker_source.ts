/**
 * The source text of functions that worker threads run. Workers are
 * evaluated from a string (no file-read permission needed), so a function
 * they call must be copied in as text, and so must every module-level name
 * it reads. Each module whose functions run in a worker lists them in one
 * {@linkcode WorkerPart} next to their definitions, with the parts of the
 * modules they call; {@linkcode workerSource} builds the text from those
 * lists alone, and `tests/core_worker_source_test.ts` runs every part in
 * an empty scope, so a name missing from a list fails a fast unit test
 * rather than only the fits large enough to start threads.
 *
 * @module
 */

/**
 * A module's functions that run in worker threads, and what they read.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const HALF = 0.5;
 * function half(x: number) {
 *   return HALF * x;
 * }
 * const part: WorkerPart = { constants: { HALF }, functions: [half] };
 * assert.match(workerSource([part]), /^const HALF = 0\.5;\nfunction half\(/);
 * ```
 */
export interface WorkerPart {
  /** Parts of the modules these functions call (copied in first, once). */
  readonly needs?: readonly WorkerPart[];
  /** Module-level numeric constants the functions read, by name. */
  readonly constants?: Readonly<Record<string, number>>;
  /** Module-level declarations the functions read, as source text. */
  readonly declarations?: readonly string[];
  /** Function declarations (`function name(...) {...}`), copied by `toString()`. */
  // deno-lint-ignore ban-types
  readonly functions: readonly Function[];
}

/**
 * The source of `parts` and of the parts they need, each once, dependencies
 * first: constants, declarations, then functions.
 *
 * @throws {TypeError} for a function that is not a named declaration, a
 *   non-finite constant, or a name declared twice.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const K = 3;
 * function triple(x: number) {
 *   return K * x;
 * }
 * const part: WorkerPart = { constants: { K }, functions: [triple] };
 * const src = workerSource([part]);
 * assert.strictEqual(new Function(`${src}\nreturn triple(2);`)(), 6);
 * ```
 */
export function workerSource(parts: readonly WorkerPart[]): string {
  const out: string[] = [];
  const names = new Set<string>();
  const done = new Set<WorkerPart>();
  const declare = (name: string) => {
    if (names.has(name)) {
      throw new TypeError(`worker source: ${name} is declared twice`);
    }
    names.add(name);
  };
  const add = (part: WorkerPart) => {
    if (done.has(part)) return;
    done.add(part);
    for (const p of part.needs ?? []) add(p);
    for (const [name, value] of Object.entries(part.constants ?? {})) {
      if (!Number.isFinite(value)) {
        throw new TypeError(`worker source: constant ${name} is ${value}`);
      }
      declare(name);
      out.push(`const ${name} = ${value};`);
    }
    out.push(...part.declarations ?? []);
    for (const fn of part.functions) {
      const src = fn.toString();
      if (!src.startsWith(`function ${fn.name}(`)) {
        throw new TypeError(
          `worker source: ${
            fn.name || "a function"
          } is not a function declaration`,
        );
      }
      declare(fn.name);
      out.push(src);
    }
  };
  for (const p of parts) add(p);
  return out.join("\n");
}
