// Shared argument checks. Each names the offending option so that callers see
// which of their inputs was wrong, not where inside the library it failed.

/** Throws unless `value` is an integer >= `min` (a RangeError for bad numbers, a TypeError for non-numbers). */
export function assertInteger(
  name: string,
  value: unknown,
  min: number,
): number {
  if (typeof value !== "number") {
    throw new TypeError(`${name} must be a number, got ${typeof value}`);
  }
  if (!Number.isFinite(value) || !Number.isInteger(value)) {
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
    throw new TypeError(`${name} must be a number, got ${typeof value}`);
  }
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${name} must be a finite number > 0, got ${value}`);
  }
  return value;
}

/** Throws unless `value` is a boolean. */
export function assertBoolean(name: string, value: unknown): boolean {
  if (typeof value !== "boolean") {
    throw new TypeError(`${name} must be a boolean, got ${typeof value}`);
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
