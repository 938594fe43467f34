/**
 * Names of the model language: functions, aliases, constants, default
 * variables (private helpers of the parser and of `model`).
 *
 * @module
 */

import { FUNCTION_ARITY, type FunctionName } from "./ast.ts";

/** Aliases accepted for function names (NIST writes `arctan`). */
export const FUNCTION_ALIASES: Readonly<Record<string, FunctionName>> = {
  arctan: "atan",
  arcsin: "asin",
  arccos: "acos",
  arctan2: "atan2",
  ln: "log",
};

/** Named constants of the language. */
export const CONSTANTS: ReadonlyMap<string, number> = new Map([
  ["pi", Math.PI],
  ["e", Math.E],
]);

/** Largest feature index a default variable name `xN` may use. */
export const MAX_VARIABLE_INDEX = 1023;

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
/**
 * Default indexed variable names `x0, x1, …` (no leading zeros), used by
 * expressions without a plain `x` (with `x`, they are parameters).
 */
export const DEFAULT_INDEXED_VAR = /^x(0|[1-9][0-9]*)$/;

/** Whether `name` is a function name or an alias of one. */
export function isFunctionName(name: string): boolean {
  return Object.hasOwn(FUNCTION_ARITY, name) ||
    Object.hasOwn(FUNCTION_ALIASES, name);
}

/**
 * Why `name` cannot be a parameter or variable name, or `null` if it can.
 */
export function reservedNameReason(name: string): string | null {
  if (typeof name !== "string" || !IDENT.test(name)) {
    return `${JSON.stringify(name)} is not an identifier`;
  }
  if (isFunctionName(name)) return `'${name}' is a function name`;
  if (CONSTANTS.has(name)) return `'${name}' is a constant`;
  return null;
}
