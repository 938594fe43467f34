// WebGPU arithmetic for the streaming strategy: each batch is uploaded to a
// short-lived GPU evaluator that returns normal-form partial sums, which add
// up exactly across batches. Used only when the device computes in f64: f32
// partial sums would need a CPU polish pass, which streaming cannot afford.

import type { BackendDescription } from "./backend_description.ts";
import type { Model } from "../model/types.ts";
import type { NormalLinearization } from "../core/linearization.ts";
import type { LossName } from "../core/loss.ts";
import {
  addNormalToGram,
  type PartialLinearization,
} from "../core/_linearization_forms.ts";
import type { RowBlock } from "./_streaming_pass.ts";

/** Per-theta running sums: the cost and Gram sums of [J f] (`gram: true`). */
export type NormalAccumulator = PartialLinearization;

/** The per-batch GPU arithmetic, or null when no f64 WebGPU device exists. */
export interface GpuBatchRunner {
  readonly backend: BackendDescription;
  run(
    block: RowBlock,
    thetas: readonly Float64Array[],
    withJac: readonly boolean[],
    acc: NormalAccumulator[],
  ): Promise<void>;
}

/** Opens a runner when WebGPU with shader-f64 is available, else null. */
export async function openGpuBatchRunner(
  model: Model,
  loss: LossName,
  fScale: number,
): Promise<GpuBatchRunner | null> {
  if (model.kind !== "expression" || !globalThis.navigator?.gpu) return null;
  let mod: typeof import("../gpu/evaluator.ts");
  try {
    mod = await import("../gpu/evaluator.ts");
  } catch {
    return null;
  }
  const p = model.params.length;
  // A probe on two points finds out whether the device has f64 at all.
  let backend: BackendDescription;
  try {
    const probe = await mod.createGpuEvaluator(model, {
      x: model.variables.map(() => new Float64Array([0.5, 1.5])),
      y: new Float64Array(2),
      w: null,
    }, { loss, fScale, precision: "auto" });
    const d = probe.describe();
    probe.close();
    if (d.needsCpuPolish) return null;
    backend = {
      device: "webgpu",
      precision: d.precision,
      adapter: d.adapterName,
      software: d.software,
      detail: "per batch",
    };
  } catch {
    return null;
  }
  return {
    backend,
    async run(block, thetas, withJac, acc) {
      const { data, start, end } = block;
      const sub = (a: Float64Array) =>
        start === 0 && end === a.length ? a : a.subarray(start, end);
      const ev = await mod.createGpuEvaluator(model, {
        x: data.x.map(sub),
        y: sub(data.y),
        w: data.w ? sub(data.w) : null,
      }, { loss, fScale, precision: "f64" });
      try {
        const out = await ev.evaluate(thetas, withJac);
        out.forEach((e, i) => {
          const a = acc[i];
          a.cost += e.cost;
          if (!withJac[i]) return;
          const lin = e.lin as NormalLinearization | undefined;
          if (!lin || !a.aug) {
            a.aug = null;
            return;
          }
          addNormalToGram(a.aug, lin, p);
        });
      } finally {
        ev.close();
      }
    },
  };
}
