/**
 * One pass of a WebGPU evaluator: the parameter vectors written, the full
 * (cost and normal sums) and cost-only kernels dispatched over every chunk,
 * the partial records reduced, one readback, and the sums decoded into
 * evaluations.
 *
 * @module
 */

import type { Evaluation } from "../core/linearization.ts";
import { normalFromSums } from "../core/_linearization_forms.ts";
import { GpuDeviceLostError, GpuKernelError } from "./errors.ts";
import {
  ensureGroup,
  type EvaluatorSettings,
  type Group,
  type State,
  writeThetas,
} from "./_evaluator_state.ts";

const LOSS_GRACE_MS = 200;

/** The parameter vectors of a pass, split by what is asked of them. */
interface PassPlan {
  readonly fullIdx: readonly number[];
  readonly costIdx: readonly number[];
  readonly gf: Group | null;
  readonly gc: Group | null;
  /** Bytes of the readback before the cost-only results. */
  readonly fullBytes: number;
  readonly costBytes: number;
}

/**
 * Evaluates `thetas` (the cost, and the linearization where `withJacobian`)
 * on the device. Rejects with {@linkcode GpuDeviceLostError} when the device
 * is lost; the caller then builds a new state.
 */
export async function evaluatePass(
  s: State,
  thetas: readonly Float64Array[],
  withJacobian: readonly boolean[],
  st: EvaluatorSettings,
  nPoints: number,
): Promise<Evaluation[]> {
  const plan = planPass(s, thetas, withJacobian);
  const readback = readbackBuffer(s, plan);
  const { device } = s.ctx;
  device.pushErrorScope("validation");
  if (plan.gf) {
    writeThetas(
      s,
      plan.gf,
      plan.fullIdx.map((i) => thetas[i]),
      nP(thetas),
      st.fScale,
    );
  }
  if (plan.gc) {
    writeThetas(
      s,
      plan.gc,
      plan.costIdx.map((i) => thetas[i]),
      nP(thetas),
      st.fScale,
    );
  }
  device.queue.submit([encodePass(s, plan, readback)]);
  const raw = await readBack(s, readback, plan, device.popErrorScope());
  return decode(s, plan, raw, thetas.length, st, nPoints, nP(thetas));
}

const nP = (thetas: readonly Float64Array[]) => thetas[0].length;

function planPass(
  s: State,
  thetas: readonly Float64Array[],
  withJacobian: readonly boolean[],
): PassPlan {
  const fullIdx: number[] = [], costIdx: number[] = [];
  withJacobian.forEach((j, i) => (j ? fullIdx : costIdx).push(i));
  const p = nP(thetas);
  const gf = fullIdx.length ? ensureGroup(s, "full", fullIdx.length, p) : null;
  const gc = costIdx.length ? ensureGroup(s, "cost", costIdx.length, p) : null;
  const vpc = s.kernel.valuesPerComponent;
  const eb = s.kernel.precision === "f64" ? 8 : 4;
  return {
    fullIdx,
    costIdx,
    gf,
    gc,
    fullBytes: (s.groups.full?.cap ?? 0) * s.kernel.nFull * vpc * eb,
    costBytes: (s.groups.cost?.cap ?? 0) * vpc * eb,
  };
}

/** The readback buffer, sized for both groups' capacities. */
function readbackBuffer(s: State, plan: PassPlan): GPUBuffer {
  if (!s.readback) {
    s.readback = s.ctx.device.createBuffer({
      size: Math.max(16, plan.fullBytes + plan.costBytes),
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
  }
  return s.readback;
}

function encodePass(
  s: State,
  plan: PassPlan,
  readback: GPUBuffer,
): GPUCommandBuffer {
  const { gf, gc } = plan;
  const enc = s.ctx.device.createCommandEncoder();
  const pass = enc.beginComputePass();
  for (
    const [g, pipe, count] of [
      [gf, s.full, plan.fullIdx.length],
      [gc, s.cost, plan.costIdx.length],
    ] as const
  ) {
    if (!g) continue;
    pass.setPipeline(pipe);
    s.chunks.forEach((c, i) => {
      pass.setBindGroup(0, g.bind[i]);
      pass.dispatchWorkgroups(c.workgroups, count);
    });
  }
  pass.setPipeline(s.reduce);
  for (
    const [g, count] of [[gf, plan.fullIdx.length], [
      gc,
      plan.costIdx.length,
    ]] as const
  ) {
    if (!g) continue;
    pass.setBindGroup(0, g.reduceBind);
    pass.dispatchWorkgroups(count);
  }
  pass.end();
  const vpc = s.kernel.valuesPerComponent;
  const eb = s.kernel.precision === "f64" ? 8 : 4;
  if (gf) {
    const bytes = plan.fullIdx.length * s.kernel.nFull * vpc * eb;
    enc.copyBufferToBuffer(gf.out, 0, readback, 0, bytes);
  }
  if (gc) {
    const bytes = plan.costIdx.length * vpc * eb;
    enc.copyBufferToBuffer(gc.out, 0, readback, plan.fullBytes, bytes);
  }
  return enc.finish();
}

/** Maps the readback (racing a device loss) and widens it to f64. */
async function readBack(
  s: State,
  readback: GPUBuffer,
  plan: PassPlan,
  errScope: Promise<GPUError | null>,
): Promise<Float64Array> {
  try {
    const mapped = readback.mapAsync(GPUMapMode.READ);
    const lost = await Promise.race([mapped.then(() => null), s.ctx.whenLost]);
    if (lost) throw lost;
    const err = await errScope;
    if (err) {
      readback.unmap();
      throw new GpuKernelError(`WebGPU validation error: ${err.message}`);
    }
    const bytes = readback.getMappedRange(0, plan.fullBytes + plan.costBytes);
    const raw = Float64Array.from(
      s.kernel.precision === "f64"
        ? new Float64Array(bytes)
        : new Float32Array(bytes),
    );
    readback.unmap();
    return raw;
  } catch (e) {
    if (e instanceof GpuDeviceLostError) throw e;
    // A destroyed device fails mapAsync before device.lost settles: give
    // the loss a moment to be reported so the caller sees the real cause.
    const lost = await Promise.race([
      s.ctx.whenLost,
      new Promise<null>((r) => setTimeout(() => r(null), LOSS_GRACE_MS)),
    ]);
    throw lost ?? e;
  }
}

function decode(
  s: State,
  plan: PassPlan,
  raw: Float64Array,
  count: number,
  st: EvaluatorSettings,
  nPoints: number,
  nParams: number,
): Evaluation[] {
  const out = new Array<Evaluation>(count);
  const half = st.loss === "linear" ? 0.5 : 0.5 * st.fScale * st.fScale;
  const vpc = s.kernel.valuesPerComponent;
  const nf = s.kernel.nFull;
  // f32 kernels carry each value as a compensated pair.
  const value = (off: number, c: number) =>
    vpc === 1 ? raw[off + c] : raw[off + 2 * c] + raw[off + 2 * c + 1];
  plan.fullIdx.forEach((ti, k) => {
    const off = k * nf * vpc;
    const cost = half * value(off, 0);
    if (!Number.isFinite(cost)) {
      out[ti] = { cost };
      return;
    }
    // The record after the cost: J^T f, then the upper triangle of J^T J.
    const sums = Float64Array.from(
      { length: nf - 1 },
      (_, c) => value(off, 1 + c),
    );
    out[ti] = { cost, lin: normalFromSums(sums, nParams, cost, nPoints) };
  });
  const eb = s.kernel.precision === "f64" ? 8 : 4;
  plan.costIdx.forEach((ti, k) => {
    out[ti] = { cost: half * value(plan.fullBytes / eb + k * vpc, 0) };
  });
  return out;
}
