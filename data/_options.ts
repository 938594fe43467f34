// Checks of the options of the data openers: a misspelt name or a value of
// the wrong kind is an error naming the option, never silently ignored (a
// `dropInvalid: "no"` would otherwise drop rows, being truthy).

import { assertKnownOptions, showValue as show } from "../core/_validate.ts";
import type { ColumnRef } from "./source.ts";

/** A boolean option: `dflt` when absent, a TypeError when not a boolean. */
export function flag(name: string, value: unknown, dflt: boolean): boolean {
  if (value === undefined) return dflt;
  if (typeof value !== "boolean") {
    throw new TypeError(`${name} must be true or false, got ${show(value)}`);
  }
  return value;
}

/** Throws unless `ref` is a column name or index (or, for x, a list of them). */
export function checkColumnRef(role: string, ref: unknown): void {
  const one = (r: unknown) => {
    if (typeof r !== "string" && typeof r !== "number") {
      throw new TypeError(
        `${role} must be a column name or a 0-based index, got ${show(r)}`,
      );
    }
  };
  if (role === "x" && Array.isArray(ref)) ref.forEach(one);
  else if (ref !== undefined) one(ref as ColumnRef);
}

/**
 * Throws for an option that `formats` does not list, or one (with a value)
 * meant for other formats than `format`. `formats` maps each option to the
 * formats it applies to (empty: all).
 */
export function checkOptionNames(
  what: string,
  options: object,
  formats: Record<string, readonly string[]>,
  format: string | undefined,
): void {
  assertKnownOptions(what, options, new Set(Object.keys(formats)));
  for (const [key, value] of Object.entries(options)) {
    const only = formats[key];
    if (
      value !== undefined && format !== undefined && only.length > 0 &&
      !only.includes(format)
    ) {
      throw new TypeError(
        `${what}: option "${key}" applies to ${
          only.join(" and ")
        } files, not ${format}`,
      );
    }
  }
}
