// WebGPU arithmetic for the streaming strategy: each batch is uploaded to a
// short-lived GPU evaluator that returns normal-form partial sums, which add
// up exactly across batches. The next batch is read and uploaded while the
// kernels of the one before run (two batches in flight). Used only when the
// device computes in f64: f32 partial sums would need a CPU polish pass,
// which streaming cannot afford.

import type { BackendDescription } from "./backend_description.ts";
import type { Model } from "../model/types.ts";
import type { Evaluation, NormalLinearization } from "../core/linearization.ts";
import type { LossName } from "../core/loss.ts";
import {
  addNormalToGram,
  type PartialLinearization,
} from "../core/_linearization_forms.ts";
import type { RowBlock } from "./_streaming_pass.ts";
import type { WeightedData } from "../core/weights.ts";
import type { GpuEvaluator as BaseGpuEvaluator } from "../gpu/evaluator.ts";

/** An evaluator of batches, and whether its data carry weights. */
type GpuEvaluator = BaseGpuEvaluator & { weighted: boolean };

/** Per-theta running sums: the cost and Gram sums of [J f] (`gram: true`). */
export type NormalAccumulator = PartialLinearization;

/** A batch whose evaluation runs on the GPU. */
export interface PendingBatch {
  /** Waits for the results and adds them to `acc` (one per theta). */
  finish(acc: NormalAccumulator[]): Promise<void>;
}

/** The per-batch GPU arithmetic, or null when no f64 WebGPU device exists. */
export interface GpuBatchRunner {
  readonly backend: BackendDescription;
  /**
   * Uploads a batch (its arrays may be reused once this resolves: the
   * upload copies them) and submits its evaluation at every theta. The
   * next batch can be read and uploaded while the GPU computes this one.
   */
  start(
    block: RowBlock,
    thetas: readonly Float64Array[],
    withJac: readonly boolean[],
  ): Promise<PendingBatch>;
  /** Frees the evaluators kept for later batches. */
  close(): void;
}

/** Evaluators kept between batches (one computes while one is filled). */
const KEEP_EVALUATORS = 2;

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
      detail: "batches",
    };
  } catch {
    return null;
  }
  // Evaluators of finished batches, reused by batches of the same size: the
  // data goes into their buffers, and nothing is set up again.
  const idle: GpuEvaluator[] = [];
  let closed = false;
  const take = async (data: WeightedData): Promise<GpuEvaluator> => {
    const k = idle.findIndex((e) =>
      e.nResiduals === data.y.length && e.weighted === (data.w !== null)
    );
    if (k >= 0) {
      const ev = idle.splice(k, 1)[0];
      try {
        await mod.reloadGpuEvaluator(ev, data);
      } catch (e) {
        ev.close();
        throw e;
      }
      return ev;
    }
    // The source checked the values (finite, sigma > 0) as it read them.
    const ev = await mod.createGpuEvaluator(model, data, {
      loss,
      fScale,
      precision: "f64",
      assumeFinite: true,
    });
    return Object.assign(ev, { weighted: data.w !== null });
  };
  const give = (ev: GpuEvaluator) => {
    if (!closed && idle.length < KEEP_EVALUATORS) idle.push(ev);
    else ev.close();
  };
  return {
    backend,
    close() {
      closed = true;
      for (const ev of idle.splice(0)) ev.close();
    },
    async start(block, thetas, withJac) {
      const { data, start, end } = block;
      const sub = (a: Float64Array) =>
        start === 0 && end === a.length ? a : a.subarray(start, end);
      const ev = await take({
        x: data.x.map(sub),
        y: sub(data.y),
        w: data.w ? sub(data.w) : null,
      });
      let out: Promise<Evaluation[]>;
      try {
        out = ev.evaluate(thetas, withJac);
      } catch (e) {
        ev.close();
        throw e;
      }
      out.then(() => give(ev), () => ev.close());
      return {
        async finish(acc) {
          try {
            (await out).forEach((e, i) => {
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
          } catch (e) {
            ev.close();
            throw e;
          }
        },
      };
    },
  };
}
