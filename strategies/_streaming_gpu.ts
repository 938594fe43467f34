// WebGPU arithmetic for the streaming strategy: every batch of a pass goes
// through one set of device buffers, its kernels add their sums to running
// sums on the device, and the pass reads them back once (see
// gpu/_batch_stream.ts for the measurements behind this). Interleaved rows
// of a file are uploaded as read, and the kernels count bad values in them;
// a pass that meets one is read again as checked columns, which names the
// value (or drops its row). Used only when the device computes in f64: f32
// sums would need a CPU polish pass, which streaming cannot afford.

import type { BackendDescription } from "./backend_description.ts";
import type { Model } from "../model/types.ts";
import type { LossName } from "../core/loss.ts";
import {
  addNormalToGram,
  normalFromSums,
  type PartialLinearization,
} from "../core/_linearization_forms.ts";
import type { RowBlock, TableBlock } from "./_streaming_pass.ts";
import type { BatchLayout, GpuBatchStream } from "../gpu/_batch_stream.ts";
import type { GpuContext } from "../gpu/device.ts";
import type { MomentsSummary } from "../core/_moments.ts";

/** Per-theta sums of a pass: the cost and Gram sums of [J f] (`gram: true`). */
export type NormalAccumulator = PartialLinearization;

/** One pass on the GPU: add every batch, then finish. */
export interface GpuPassRun {
  /**
   * Uploads a batch and submits its kernels; its arrays may be reused once
   * this resolves. Returns false for a table this runner cannot take as
   * rows (the caller reads it as columns and adds those).
   */
  add(block: RowBlock | TableBlock): Promise<boolean>;
  /**
   * The pass's sums (one readback) and, where `begin` was given a shift,
   * y's moments; or null when a table held a value that is not finite: the
   * caller reads the pass again as columns.
   */
  finish(nResiduals: number): Promise<GpuPassSums | null>;
  /** Drops the pass after an error. */
  abort(): void;
}

/** What a GPU pass gives. */
export interface GpuPassSums {
  readonly parts: NormalAccumulator[];
  readonly y: MomentsSummary | null;
}

/** The per-pass GPU arithmetic, or null when no f64 WebGPU device exists. */
export interface GpuBatchRunner {
  readonly backend: BackendDescription;
  /** Whether passes may read interleaved tables (false after a bad value). */
  readonly tables: boolean;
  /**
   * Starts a pass evaluating every theta (the linearization where
   * `withJac`); with `yShift` (a value near y's mean: the sums are of
   * deviations from it), also y's moments.
   */
  begin(
    thetas: readonly Float64Array[],
    withJac: readonly boolean[],
    yShift?: number,
  ): GpuPassRun;
  /** Frees the device buffers. */
  close(): void;
}

/** Opens a runner when WebGPU with shader-f64 is available, else null. */
export async function openGpuBatchRunner(
  model: Model,
  loss: LossName,
  fScale: number,
  batchSize: number,
): Promise<GpuBatchRunner | null> {
  if (model.kind !== "expression" || !globalThis.navigator?.gpu) return null;
  let ctx: GpuContext;
  let mod: typeof import("../gpu/_batch_stream.ts");
  try {
    const device = await import("../gpu/device.ts");
    mod = await import("../gpu/_batch_stream.ts");
    ctx = await device.acquireDevice();
  } catch {
    return null;
  }
  if (!ctx.info.f64) return null;
  return new Runner(ctx, mod, model, loss, fScale, batchSize);
}

class Runner implements GpuBatchRunner {
  readonly backend: BackendDescription;
  tables = true;
  // One stream per layout met (rows of a table's shape, or columns).
  readonly #streams = new Map<string, Promise<GpuBatchStream>>();
  #closed = false;

  constructor(
    readonly ctx: GpuContext,
    readonly mod: typeof import("../gpu/_batch_stream.ts"),
    readonly model: Model,
    readonly loss: LossName,
    readonly fScale: number,
    readonly batchSize: number,
  ) {
    this.backend = {
      device: "webgpu",
      precision: "f64",
      adapter: ctx.info.adapterName,
      software: ctx.info.software,
      detail: "batches",
    };
  }

  #stream(layout: BatchLayout): Promise<GpuBatchStream> {
    if (this.#closed) throw new TypeError("the GPU runner is closed");
    const key = JSON.stringify(layout);
    let s = this.#streams.get(key);
    if (!s) {
      s = this.mod.GpuBatchStream.open(this.ctx, this.model, layout, {
        loss: this.loss,
        fScale: this.fScale,
        maxRows: this.batchSize,
      });
      this.#streams.set(key, s);
      s.catch(() => this.#streams.delete(key));
    }
    return s;
  }

  begin(
    thetas: readonly Float64Array[],
    withJac: readonly boolean[],
    yShift?: number,
  ): GpuPassRun {
    const p = this.model.params.length;
    // Streams used by this pass, begun on first use.
    const used = new Map<GpuBatchStream, boolean>();
    let tablesSeen = false;
    const start = async (layout: BatchLayout) => {
      const s = await this.#stream(layout);
      if (!used.has(s)) {
        s.begin(thetas, withJac, yShift);
        used.set(s, true);
      }
      return s;
    };
    return {
      add: async (blk) => {
        if (blk.table !== undefined) {
          const t = blk.table;
          const ok = t.sigmaColumn < 0 && t.stride <= 16;
          if (!ok) {
            this.tables = false;
            return false;
          }
          tablesSeen = true;
          const s = await start({
            kind: "rows",
            rows: { stride: t.stride, columns: t.columns },
          });
          await s.push(t.table, t.rows);
          return true;
        }
        const s = await start({
          kind: "columns",
          weighted: blk.data.w !== null,
        });
        await s.push(blk.data, blk.end - blk.start, blk.start);
        return true;
      },
      finish: async (nResiduals) => {
        const acc: NormalAccumulator[] = withJac.map((j) => ({
          cost: 0,
          aug: j ? new Float64Array((p + 1) * (p + 1)) : null,
          gram: true,
        }));
        let invalid = 0, s1 = 0, s2 = 0, gotY = false;
        for (const s of used.keys()) {
          const r = await s.finish();
          invalid += r.invalid;
          if (r.y) {
            gotY = true;
            s1 += r.y[0];
            s2 += r.y[1];
          }
          r.results.forEach((e, i) => {
            const a = acc[i];
            a.cost += e.cost;
            if (e.sums && a.aug) {
              addNormalToGram(
                a.aug,
                normalFromSums(e.sums, p, e.cost, nResiduals),
                p,
              );
            }
          });
        }
        if (invalid > 0 && tablesSeen) {
          this.tables = false;
          return null;
        }
        // Shifted sums: with the shift within about a standard deviation
        // of the mean, m2 = s2 - s1^2 / n loses at most a bit or two.
        const n = nResiduals;
        const y = !gotY || yShift === undefined || n === 0 ? null : {
          n,
          mean: yShift + s1 / n,
          m2: Math.max(0, s2 - (s1 * s1) / n),
        };
        return { parts: acc, y };
      },
      abort: () => {
        for (const s of used.keys()) s.abort();
      },
    };
  }

  close(): void {
    this.#closed = true;
    for (const s of this.#streams.values()) {
      s.then((x) => x.close(), () => {});
    }
    this.#streams.clear();
  }
}
