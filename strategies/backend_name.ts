/**
 * The arithmetic backends a fit may ask for.
 *
 * @module
 */

/**
 * The `backend` values: `"auto"` (the CPU, or WebGPU where it is measured
 * faster), `"cpu"` and `"webgpu"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { BACKEND_NAMES } from "@nlsq/nlsq";
 * assert.deepStrictEqual([...BACKEND_NAMES], ["auto", "cpu", "webgpu"]);
 * ```
 */
export const BACKEND_NAMES = ["auto", "cpu", "webgpu"] as const;

/**
 * A `backend` value.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { BACKEND_NAMES } from "@nlsq/nlsq";
 * import type { BackendName } from "@nlsq/nlsq";
 * const b: BackendName = "cpu";
 * assert.ok(BACKEND_NAMES.includes(b));
 * ```
 */
export type BackendName = typeof BACKEND_NAMES[number];
