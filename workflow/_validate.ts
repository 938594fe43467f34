// Shared argument checks. Each names the offending option so that callers see
// which of their inputs was wrong, not where inside the library it failed.

import { listChoices, showValue } from "../core/_validate.ts";

/**
 * Throws unless `value` is a safe integer >= `min` (a RangeError for bad
 * numbers, a TypeError for non-numbers).
 */
export function assertInteger(
  name: string,
  value: unknown,
  min: number,
): number {
  if (typeof value !== "number") {
    throw new TypeError(`${name} must be a number, got ${showValue(value)}`);
  }
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`${name} must be a finite integer, got ${value}`);
  }
  if (value < min) {
    throw new RangeError(`${name} must be >= ${min}, got ${value}`);
  }
  return value;
}

/** Throws unless `value` is a finite number > 0. */
export function assertPositiveFinite(name: string, value: unknown): number {
  if (typeof value !== "number") {
    throw new TypeError(`${name} must be a number, got ${showValue(value)}`);
  }
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${name} must be a finite number > 0, got ${value}`);
  }
  return value;
}

/** Throws unless `value` is a boolean. */
export function assertBoolean(name: string, value: unknown): boolean {
  if (typeof value !== "boolean") {
    throw new TypeError(`${name} must be a boolean, got ${showValue(value)}`);
  }
  return value;
}

/** Throws unless `value` is a plain object (not null, not an array). */
export function assertObject(
  name: string,
  value: unknown,
): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`${name} must be an object`);
  }
  return value as Record<string, unknown>;
}

/** Throws a TypeError unless `value` is one of `allowed`. */
export function assertOneOf<T extends string | number>(
  name: string,
  value: unknown,
  allowed: readonly T[],
): T {
  if (!allowed.includes(value as T)) {
    throw new TypeError(
      `${name} must be ${listChoices(allowed)}, got ${showValue(value)}`,
    );
  }
  return value as T;
}

/** Throws a TypeError unless `value` is a non-empty string (a path). */
export function assertNonEmptyString(name: string, value: unknown): string {
  if (typeof value !== "string" || value === "") {
    throw new TypeError(
      `${name} must be a non-empty string (a path), got ${showValue(value)}`,
    );
  }
  return value;
}

/**
 * Most worker threads a fit may ask for: far beyond the cores of any single
 * machine here, low enough that a typo (1000) fails instead of spawning
 * threads by the thousand.
 */
export const MAX_THREADS = 256;

/** Throws unless `value` is "auto" or an integer in [1, {@linkcode MAX_THREADS}]. */
export function assertThreads(name: string, value: unknown): number | "auto" {
  if (value === "auto") return value;
  if (typeof value !== "number") {
    throw new TypeError(
      `${name} must be "auto" or a number, got ${showValue(value)}`,
    );
  }
  if (!Number.isInteger(value) || value < 1 || value > MAX_THREADS) {
    throw new RangeError(
      `${name} must be an integer in [1, ${MAX_THREADS}] or "auto", got ${value}`,
    );
  }
  return value;
}
