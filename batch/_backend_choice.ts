/**
 * `backend: "auto"` of `fitBatch`: the CPU engine, or the WebGPU engine
 * where it is measured faster. Which one wins depends on the machine (a
 * hardware GPU, lavapipe on the same cores as the CPU engine, or none), on
 * the model and on the number of points, so it is measured rather than
 * guessed: the first large batch of a model runs one sample of its fits on
 * each engine (the WebGPU kernel compiled beforehand, so its one-time cost
 * does not count), keeps the faster engine for the rest of the batch, and
 * remembers the choice for later batches of that model and size. Small
 * batches stay on the CPU: device setup and the kernel's compilation (about
 * 0.2 s on lavapipe) cost more than they could save, and so does a batch
 * given `threads` (a CPU setting, whose answers do not depend on it).
 *
 * @module
 */

import { isWebGpuAvailable } from "../gpu/device.ts";
import {
  GpuDeviceLostError,
  GpuKernelError,
  GpuUnavailableError,
} from "../gpu/errors.ts";
import type { BatchProblem } from "./_input.ts";
import { allocateOutputs, type BatchOutputs } from "./_outputs.ts";
import { runCpuBatch } from "./_cpu_engine.ts";
import {
  copyFit,
  runWebGpuBatch,
  subProblem,
  webGpuUnsupported,
} from "./_webgpu_engine.ts";

/** Below this many fits, "auto" is the CPU engine without measuring. */
export const AUTO_MIN_FITS = 16384;

/**
 * Beyond this many free parameters, "auto" is the CPU engine: the kernel's
 * compilation grows fast with them (lavapipe: 0.7 s at 6, 10 s at 12).
 */
export const AUTO_MAX_FREE = 8;

/**
 * Beyond this many points per fit, "auto" is the CPU engine: one
 * invocation per fit is made for small fits (and lavapipe caps the loop
 * iterations of a dispatch).
 */
export const AUTO_MAX_POINTS = 16384;

/** What an engine run gives `fitBatch`. */
export interface AutoRun {
  readonly outputs: BatchOutputs;
  readonly threads: number;
  /** The engine's name in results, when not the CPU engine's. */
  readonly label?: string;
  /** Why the engine was chosen (for the result's notes). */
  readonly note: string;
}

interface Choice {
  readonly gpu: boolean;
  readonly note: string;
}

const CHOICES = new Map<string, Choice>();

function choiceKey(pr: BatchProblem): string {
  return JSON.stringify([
    pr.model.expression ?? JSON.stringify(pr.model.ast),
    pr.nPoints,
    pr.free,
    pr.lower !== null,
    pr.sigma !== null,
    pr.xPerFit,
  ]);
}

function rate(fits: number, ms: number): string {
  return `${Math.round(fits / (ms / 1000))}`;
}

/** Fits `[from, to)` of `pr`. */
function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

/**
 * Runs a batch on the engine "auto" chooses.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { resolveBatch } from "./_input.ts";
 * import { runAutoBatch } from "./_backend_choice.ts";
 * const pr = resolveBatch("a * x", [1, 2], [[2, 4]], { p0: [1] });
 * const run = await runAutoBatch(pr);
 * assert.match(run.note, /CPU/);
 * assert.ok(Math.abs(run.outputs.popt[0] - 2) < 1e-12);
 * ```
 */
export async function runAutoBatch(pr: BatchProblem): Promise<AutoRun> {
  const cpu = async (note: string): Promise<AutoRun> => ({
    ...(await runCpuBatch(pr)),
    note,
  });
  const why = webGpuUnsupported(pr);
  if (why !== null) {
    return cpu(`backend auto: the CPU batch engine (WebGPU takes no ${why})`);
  }
  if (pr.free.length > AUTO_MAX_FREE) {
    return cpu(
      `backend auto: the CPU batch engine (over ${AUTO_MAX_FREE} free parameters)`,
    );
  }
  if (pr.nPoints > AUTO_MAX_POINTS) {
    return cpu(
      `backend auto: the CPU batch engine (over ${AUTO_MAX_POINTS} points per fit)`,
    );
  }
  if (pr.threads !== "auto") {
    return cpu("backend auto: the CPU batch engine (threads given)");
  }
  if (pr.nFits < AUTO_MIN_FITS) {
    return cpu(
      `backend auto: the CPU batch engine (under ${AUTO_MIN_FITS} fits)`,
    );
  }
  if (!(await isWebGpuAvailable())) {
    return cpu("backend auto: the CPU batch engine (no WebGPU device)");
  }
  const key = choiceKey(pr);
  const known = CHOICES.get(key);
  try {
    if (!known) return await measureAndRun(pr, key);
    if (known.gpu) return { ...(await runWebGpuBatch(pr)), note: known.note };
  } catch (e) {
    // A device that fails (lost, or a kernel its driver rejects) leaves
    // the batch to the CPU; the caller's own errors (abort, progress) pass.
    const gpuError = e instanceof GpuDeviceLostError ||
      e instanceof GpuKernelError || e instanceof GpuUnavailableError;
    if (!gpuError) throw e;
    CHOICES.set(key, {
      gpu: false,
      note: `backend auto: the CPU batch engine (WebGPU failed: ${e.message})`,
    });
    return cpu(CHOICES.get(key)!.note);
  }
  return cpu(known.note);
}

/**
 * Samples on each engine, then the rest on the faster. One-time costs are
 * kept out of the timings: the kernel is compiled on one fit first, and
 * the CPU engine runs one sample untimed (its worker threads start) before
 * the timed ones, with the threads the whole batch would get. Each engine
 * is timed on two samples and keeps its faster (the machine is shared:
 * a sample can be slowed by others' work).
 */
async function measureAndRun(
  pr: BatchProblem,
  key: string,
): Promise<AutoRun> {
  const p = pr.model.params.length;
  const S = Math.min(Math.max(2048, pr.nFits >> 5), Math.floor(pr.nFits / 8));
  const out = allocateOutputs(pr.nFits, p, false);
  const t0 = performance.now();
  let done = 0;
  // Progress as the samples finish, then as the rest does.
  const progress = async (count: number) => {
    done += count;
    await pr.onProgress?.({
      done,
      total: pr.nFits,
      elapsedMs: performance.now() - t0,
    });
  };
  const place = async (o: BatchOutputs, fits: number[]) => {
    fits.forEach((f, i) => copyFit(o, i, out, f, p));
    await progress(fits.length);
  };
  const threads = pr.threads === "auto"
    ? Math.max(1, globalThis.navigator?.hardwareConcurrency ?? 1)
    : pr.threads;
  const onCpu = (fits: number[]) =>
    runCpuBatch({ ...subProblem(pr, fits, null), threads });
  await runWebGpuBatch(subProblem(pr, [0], null));
  await place((await onCpu(range(0, S))).outputs, range(0, S));
  const timed = async (
    k: number,
    engine: (fits: number[]) => Promise<{ outputs: BatchOutputs }>,
  ) => {
    const fits = range(k * S, (k + 1) * S);
    const t = performance.now();
    const run = await engine(fits);
    const ms = performance.now() - t;
    await place(run.outputs, fits);
    return ms;
  };
  const onGpu = (fits: number[]) => runWebGpuBatch(subProblem(pr, fits, null));
  const cpuMs = Math.min(await timed(1, onCpu), await timed(3, onCpu));
  const gpuMs = Math.min(await timed(2, onGpu), await timed(4, onGpu));
  const rest = range(5 * S, pr.nFits);
  const gpu = gpuMs < cpuMs;
  const note = `backend auto: ${
    gpu ? "the WebGPU" : "the CPU"
  } batch engine, measured on ${S} fits each: CPU ${
    rate(S, cpuMs)
  } fits/s (${threads} thread${threads === 1 ? "" : "s"}), WebGPU ${
    rate(S, gpuMs)
  } fits/s`;
  CHOICES.set(key, { gpu, note });
  if (CHOICES.size > 64) CHOICES.delete(CHOICES.keys().next().value!);
  const before = done;
  const sub: BatchProblem = {
    ...subProblem(pr, rest, null),
    onProgress: pr.onProgress &&
      ((g) => pr.onProgress!({ ...g, done: before + g.done, total: pr.nFits })),
  };
  let label: string | undefined;
  if (gpu) {
    const run = await runWebGpuBatch(sub);
    rest.forEach((f, i) => copyFit(run.outputs, i, out, f, p));
    label = run.label;
  } else {
    const run = await runCpuBatch(sub);
    rest.forEach((f, i) => copyFit(run.outputs, i, out, f, p));
  }
  return { outputs: out, threads: gpu ? 1 : threads, label, note };
}
