/**
 * What runs a fit's arithmetic, as a structure (for code) and as the label
 * a fit result shows (for people); the label is derived, never parsed back.
 *
 * @module
 */

/**
 * The backend of an evaluator.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { backendLabel, type BackendDescription } from "@nlsq/nlsq/strategies";
 * const d: BackendDescription = { device: "cpu", precision: "f64", threads: 2 };
 * assert.strictEqual(backendLabel(d), "cpu (2 threads, f64)");
 * ```
 */
export interface BackendDescription {
  /** Where the kernels run. */
  readonly device: "cpu" | "webgpu";
  /** Arithmetic of the kernels. */
  readonly precision: "f64" | "f32";
  /** CPU threads (CPU only). */
  readonly threads?: number;
  /** The adapter's name (WebGPU only). */
  readonly adapter?: string;
  /** Whether the adapter computes in software (WebGPU only). */
  readonly software?: boolean;
  /** How the data are walked, e.g. "streaming, batches of 100000". */
  readonly detail?: string;
  /** MPI ranks the work is split over, each with this backend. */
  readonly mpi?: { readonly flavor: string; readonly size: number };
}

/**
 * The label of a backend, e.g. `cpu (2 threads, f64)`,
 * `webgpu f64 (llvmpipe, software)` or `mpi mpich (2 ranks) x cpu (1 thread, f64)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { backendLabel } from "@nlsq/nlsq/strategies";
 * assert.strictEqual(
 *   backendLabel({ device: "webgpu", precision: "f64", adapter: "llvmpipe", software: true }),
 *   "webgpu f64 (llvmpipe, software)",
 * );
 * assert.strictEqual(
 *   backendLabel({ device: "cpu", precision: "f64", detail: "dense, 2-D sigma" }),
 *   "cpu (dense, 2-D sigma, f64)",
 * );
 * ```
 */
export function backendLabel(d: BackendDescription): string {
  let own: string;
  if (d.device === "cpu") {
    const parts = [
      ...(d.detail ? [d.detail] : []),
      ...(d.threads !== undefined
        ? [`${d.threads} thread${d.threads > 1 ? "s" : ""}`]
        : []),
      d.precision,
    ];
    own = `cpu (${parts.join(", ")})`;
  } else {
    own = `webgpu ${d.precision} (${d.adapter ?? "adapter"}${
      d.software ? ", software" : ""
    })${d.detail ? `, ${d.detail}` : ""}`;
  }
  if (!d.mpi) return own;
  const { flavor, size } = d.mpi;
  return `mpi ${flavor} (${size} rank${size > 1 ? "s" : ""}) x ${own}`;
}
