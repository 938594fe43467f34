// The source text of a function declaration for generated code that calls
// it by name. A bundler may rename a top-level function whose name another
// module also declares (deno bundle turned `finishFit` into `finishFit2`):
// its text then declares the new name, and calls inside other copied
// functions use the new name too, but generated code calls the name it was
// written with, so that name is declared as well.

/**
 * `fn`'s declaration, and `const name = <fn's name>;` when a bundler renamed it.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { declarationOf } from "./_function_source.ts";
 * function twice2(v: number): number {
 *   return 2 * v;
 * }
 * const src = declarationOf("twice", twice2);
 * assert.strictEqual(new Function(`${src}\nreturn twice(4);`)(), 8);
 * ```
 */
// deno-lint-ignore ban-types
export function declarationOf(name: string, fn: Function): string {
  const src = fn.toString();
  return fn.name === name ? src : `${src}\nconst ${name} = ${fn.name};`;
}
