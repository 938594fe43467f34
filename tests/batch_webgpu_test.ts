// The WebGPU batch engine on the real device (lavapipe here): its answers
// against the CPU engine's, fit by fit (f64, and f32 with the CPU polish),
// bad fits flagged alike, and chunking beyond small forced limits.

import assert from "node:assert";
import { fitBatch, model } from "../mod.ts";
import { isWebGpuAvailable } from "../gpu/device.ts";
import { resolveBatch } from "../batch/_input.ts";
import { runCpuBatch } from "../batch/_cpu_engine.ts";
import {
  runWebGpuBatch,
  type WebGpuBatchOptions,
} from "../batch/_webgpu_engine.ts";
import { batchWgsl } from "../batch/_wgsl_batch_source.ts";
import type { BatchOutputs } from "../batch/_outputs.ts";
import type { FitBatchOptions } from "../batch/fit_batch_options.ts";
import { modelSsa } from "../model/model_ssa.ts";
import { makeBatch } from "./_batch_data.ts";

const GPU = await isWebGpuAvailable();
if (!GPU) console.log("no WebGPU adapter: the WebGPU batch tests are skipped");

/** A test that needs the device. */
function gpuTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, ignore: !GPU, fn });
}

interface Agreement {
  /** Largest |a - b| / |a| over the parameters of converged fits. */
  popt: number;
  /** Largest |a - b| / perr over the parameters of converged fits. */
  poptInSigmas: number;
  perr: number;
  cost: number;
  rsq: number;
}

/**
 * Compares two engines' outputs. Statuses and flags must be equal (with
 * `successOnly`, a converged fit's status may differ: a polish from a
 * near-converged start meets another test first).
 */
function agreement(
  a: BatchOutputs,
  b: BatchOutputs,
  p: number,
  successOnly = false,
): Agreement {
  const w: Agreement = { popt: 0, poptInSigmas: 0, perr: 0, cost: 0, rsq: 0 };
  const nFits = a.status.length;
  for (let i = 0; i < nFits; i++) {
    if (successOnly && a.status[i] > 0) {
      assert.ok(b.status[i] > 0, `status of fit ${i}: ${b.status[i]}`);
    } else {
      assert.strictEqual(b.status[i], a.status[i], `status of fit ${i}`);
      assert.strictEqual(b.flags[i], a.flags[i], `flags of fit ${i}`);
    }
    if (a.status[i] < 0) {
      assert.ok(Number.isNaN(b.popt[i * p]), `fit ${i} is flagged: NaN`);
      continue;
    }
    for (let j = 0; j < p; j++) {
      const x = a.popt[i * p + j], y = b.popt[i * p + j];
      const s = a.perr[i * p + j];
      w.popt = Math.max(w.popt, Math.abs(x - y) / Math.abs(x));
      // Data on the model: perr is rounding (0 on one engine, 1e-16 on
      // the other, or what a polish that stops at its ftol leaves).
      if (Number.isNaN(s)) assert.ok(Number.isNaN(b.perr[i * p + j]));
      else if (s > 1e-12 * Math.abs(x)) {
        w.poptInSigmas = Math.max(w.poptInSigmas, Math.abs(x - y) / s);
        w.perr = Math.max(w.perr, Math.abs(s - b.perr[i * p + j]) / s);
      } else assert.ok(b.perr[i * p + j] <= 1e-6 * Math.abs(x));
    }
    w.cost = Math.max(w.cost, Math.abs(a.cost[i] - b.cost[i]) / a.cost[i]);
    w.rsq = Math.max(w.rsq, Math.abs(a.rsq[i] - b.rsq[i]));
  }
  return w;
}

async function bothEngines(
  expr: string,
  x: Float64Array | Float64Array[],
  y: Float64Array,
  options: FitBatchOptions,
  gpuOptions: WebGpuBatchOptions = {},
) {
  const pr = resolveBatch(expr, x, y, { threads: 1, ...options });
  const cpu = await runCpuBatch(pr);
  const gpu = await runWebGpuBatch(pr, gpuOptions);
  return {
    cpu: cpu.outputs,
    gpu: gpu.outputs,
    run: gpu,
    p: pr.model.params.length,
  };
}

/** The model's values at given parameters, one row per fit. */
function exactRows(
  d: ReturnType<typeof makeBatch>,
  params: Float64Array,
): Float64Array {
  const m = model(d.expr);
  const p = m.params.length, n = d.nPoints;
  const y = new Float64Array(d.nFits * n);
  for (let i = 0; i < d.nFits; i++) {
    const th = params.subarray(i * p, (i + 1) * p);
    y.set(m.evaluate(d.x, th), i * n);
  }
  return y;
}

gpuTest(
  "WebGPU batch f64: exact Gaussians equal the CPU engine to 1e-10",
  async () => {
    const d = makeBatch("gaussian", 2000, 32, { seed: 31 });
    // Data on the model (a zero residual): the minimum is sharp, so both
    // engines' answers are the truth to rounding and so equal each other.
    const y = exactRows(d, d.truth);
    const r = await bothEngines(d.expr, d.x[0], y, { p0: d.p0 });
    assert.strictEqual(r.run.precision, "f64");
    // At a zero residual the last test to pass (gtol or xtol) is a matter
    // of rounding: converged fits may end with different statuses.
    const w = agreement(r.cpu, r.gpu, r.p, true);
    console.log(`    f64 vs CPU (exact Gaussians): ${w.popt} relative`);
    assert.ok(w.popt < 1e-10, `popt differs by ${w.popt} relative`);
    for (let k = 0; k < d.truth.length; k++) {
      assert.ok(
        Math.abs(r.gpu.popt[k] - d.truth[k]) < 1e-9 * Math.abs(d.truth[k]),
      );
    }
    assert.ok(r.gpu.status.every((s) => s > 0));
  },
);

gpuTest(
  "WebGPU batch f64: noisy Gaussians as the CPU engine (same steps, same statuses)",
  async () => {
    const d = makeBatch("gaussian", 3000, 32, { seed: 32, noise: 0.01 });
    const r = await bothEngines(d.expr, d.x[0], d.y, { p0: d.p0 });
    const w = agreement(r.cpu, r.gpu, r.p);
    console.log(
      `    f64 vs CPU (noisy Gaussians): ${w.popt} relative, ${w.poptInSigmas} sigma`,
    );
    // Noisy data fix the minimum only to ~1e-9 relative: one ulp changed in
    // every 7th value moves the CPU engine's own answer by that much, and
    // the engines differ by no more than that (the same steps, in
    // arithmetic that differs by ulps). And by a millionth of a sigma.
    const y1 = d.y.map((v, k) => (k % 7 === 0 ? v * (1 + 2 ** -52) : v));
    const shifted = await runCpuBatch(
      resolveBatch(d.expr, d.x[0], y1, { p0: d.p0, threads: 1 }),
    );
    const floor = agreement(r.cpu, shifted.outputs, r.p).popt;
    console.log(
      `    the CPU engine moved by one ulp of data: ${floor} relative`,
    );
    assert.ok(w.popt < 3 * floor, `${w.popt} vs the floor ${floor}`);
    assert.ok(w.poptInSigmas < 1e-6, `popt differs by ${w.poptInSigmas} sigma`);
    assert.ok(w.popt < 1e-8, `popt differs by ${w.popt} relative`);
    assert.ok(w.perr < 1e-6, `perr differs by ${w.perr} relative`);
    assert.ok(w.cost < 1e-12, `cost differs by ${w.cost} relative`);
    assert.ok(w.rsq < 1e-12, `R^2 differs by ${w.rsq}`);
    let sameNfev = 0;
    for (let i = 0; i < d.nFits; i++) {
      sameNfev += +(r.cpu.nfev[i] === r.gpu.nfev[i]);
    }
    assert.ok(
      sameNfev >= 0.99 * d.nFits,
      `${sameNfev} of ${d.nFits} same nfev`,
    );
  },
);

gpuTest(
  "WebGPU batch f64: noisy Gaussians at scipy's tolerances (1e-8) equal the CPU engine to 1e-10",
  async () => {
    // Tighter tolerances (the adaptive ones of 32 points) iterate on in the
    // rounding noise of the cost, where the two engines' ulps part them by
    // ~3e-9 (the test above); at 1e-8 both stop at the same iterate.
    const d = makeBatch("gaussian", 3000, 32, { seed: 32, noise: 0.01 });
    const tol = { ftol: 1e-8, xtol: 1e-8, gtol: 1e-8 };
    const r = await bothEngines(d.expr, d.x[0], d.y, { p0: d.p0, ...tol });
    const w = agreement(r.cpu, r.gpu, r.p);
    console.log(
      `    f64 vs CPU (noisy Gaussians, tol 1e-8): ${w.popt} relative`,
    );
    assert.ok(w.popt < 1e-10, `popt differs by ${w.popt} relative`);
    assert.ok(w.cost < 1e-12, `cost differs by ${w.cost} relative`);
    assert.ok(r.cpu.status.every((s) => s > 0));
  },
);

gpuTest(
  "WebGPU batch f64: exp3 with bounds and sigma equals the CPU engine",
  async () => {
    const d = makeBatch("exp3", 1500, 32, { seed: 33 });
    const y = exactRows(d, d.truth);
    const n = d.nPoints;
    const sigma = Float64Array.from({ length: n }, (_, i) => 0.5 + i / n);
    // A bound that binds: b at most 1.2 (the truth reaches 1.5).
    const bounds: [number[], number[]] = [[0, 0, 0], [10, 1.2, 5]];
    const p0 = d.p0.map((v, k) => (k % 3 === 1 ? Math.min(v, 1.2) : v));
    const r = await bothEngines(d.expr, d.x[0], y, { p0, sigma, bounds });
    const w = agreement(r.cpu, r.gpu, r.p, true);
    assert.ok(w.perr < 1e-8, `perr differs by ${w.perr} relative`);
    // R^2 is of the unweighted residuals, which a weighted fit does not
    // minimize: it moves to first order with popt.
    assert.ok(w.rsq < 1e-8, `R^2 differs by ${w.rsq}`);
    // Where the truth is inside the box the data are on the model: 1e-10.
    // Where b is held at its bound the residual is not zero, and the
    // answers agree as noisy ones do.
    let inside = 0, atBound = 0, worstInside = 0, worstAtBound = 0;
    for (let i = 0; i < d.nFits; i++) {
      let dev = 0;
      for (let j = 0; j < 3; j++) {
        const a = r.cpu.popt[i * 3 + j], b = r.gpu.popt[i * 3 + j];
        dev = Math.max(dev, Math.abs(a - b) / Math.abs(a));
      }
      if (d.truth[i * 3 + 1] < 1.2) {
        inside++;
        worstInside = Math.max(worstInside, dev);
      } else {
        atBound++;
        assert.strictEqual(r.gpu.popt[i * 3 + 1], 1.2);
        assert.strictEqual(r.cpu.popt[i * 3 + 1], 1.2);
        worstAtBound = Math.max(worstAtBound, dev);
      }
    }
    console.log(
      `    f64 vs CPU (exp3, sigma): ${worstInside} relative inside the box, ${worstAtBound} at the bound`,
    );
    assert.ok(inside > 500 && atBound > 300, `${inside} in, ${atBound} at`);
    assert.ok(worstInside < 1e-10, `popt differs by ${worstInside} inside`);
    assert.ok(worstAtBound < 1e-8, `popt differs by ${worstAtBound} at bound`);
  },
);

gpuTest(
  "WebGPU batch f64: per-fit sigma, bounds, x and a fixed parameter",
  async () => {
    const d = makeBatch("exp3", 400, 24, { seed: 34, noise: 0.01 });
    const n = d.nPoints, N = d.nFits;
    const sigma = Float64Array.from(
      { length: N * n },
      (_, k) => 0.01 * (1 + (k % 5)),
    );
    const x = new Float64Array(N * n);
    for (let i = 0; i < N; i++) {
      x.set(d.x[0], i * n);
    }
    const lower = new Float64Array(N * 3).fill(-Infinity);
    const upper = new Float64Array(N * 3).fill(Infinity);
    for (let i = 0; i < N; i++) upper[i * 3 + 1] = 0.9 + (i % 3) * 0.5;
    const p0 = d.p0.map((v, k) => (k % 3 === 1 ? Math.min(v, upper[k]) : v));
    const r = await bothEngines(d.expr, x, d.y, {
      p0,
      sigma,
      bounds: [lower, upper],
      fixed: [false, false, true],
      nPoints: n,
    });
    const w = agreement(r.cpu, r.gpu, r.p);
    assert.ok(w.poptInSigmas < 1e-6, `popt differs by ${w.poptInSigmas} sigma`);
    assert.ok(w.popt < 1e-8, `popt differs by ${w.popt} relative`);
    for (let i = 0; i < N; i++) {
      assert.strictEqual(r.gpu.popt[i * 3 + 2], p0[i * 3 + 2]); // fixed c
      assert.strictEqual(r.gpu.perr[i * 3 + 2], 0);
    }
  },
);

gpuTest(
  "WebGPU batch: bad fits are flagged as the CPU engine flags them",
  async () => {
    const d = makeBatch("gaussian", 200, 32, { seed: 35, noise: 0.01 });
    const y = d.y.slice();
    y[3 * 32 + 5] = NaN; // bad data
    y[7 * 32 + 0] = Infinity;
    const p0 = d.p0.slice();
    p0[11 * 4 + 1] = NaN; // bad start
    p0[13 * 4 + 2] = 0; // s = 0: the model is NaN at the start
    const flag = await bothEngines(d.expr, d.x[0], y, { p0, maxNfev: 400 });
    agreement(flag.cpu, flag.gpu, flag.p);
    assert.deepStrictEqual(
      [3, 7, 11, 13].map((i) => flag.gpu.status[i]),
      [-5, -5, -4, -4],
    );
    // A budget too small to converge: status 0 on both.
    const few = await bothEngines(d.expr, d.x[0], d.y, {
      p0: d.p0,
      maxNfev: 3,
    });
    agreement(few.cpu, few.gpu, few.p);
    assert.ok(few.gpu.status.some((s) => s === 0));
    // nanPolicy "omit": the fits with bad points go to the CPU engine.
    const omit = await bothEngines(d.expr, d.x[0], y, {
      p0: d.p0,
      nanPolicy: "omit",
    });
    agreement(omit.cpu, omit.gpu, omit.p);
    assert.strictEqual(omit.run.cpuFits, 2);
    assert.ok(omit.gpu.status[3] > 0 && omit.gpu.status[7] > 0);
    // Per-fit sigma and x: a sigma of 0 and a NaN abscissa flag their fits.
    const n = d.nPoints, N = d.nFits;
    const sigma = new Float64Array(N * n).fill(0.01);
    sigma[21 * n + 4] = 0;
    sigma[22 * n + 9] = -1;
    const x = new Float64Array(N * n);
    for (let i = 0; i < N; i++) x.set(d.x[0], i * n);
    x[23 * n + 2] = NaN;
    const per = await bothEngines(d.expr, x, d.y, {
      p0: d.p0,
      sigma,
      nPoints: n,
    });
    agreement(per.cpu, per.gpu, per.p);
    assert.deepStrictEqual([21, 22, 23].map((i) => per.gpu.status[i]), [
      -5,
      -5,
      -5,
    ]);
    // A redundant parameter (a + c): J^T J singular, the covariance left
    // to fitBatch's SVD path on both engines.
    const line = (t: number) => 1 + 2 * t;
    const rows = Array.from(
      { length: 20 },
      (_, i) => d.x[0].map((t) => line(t) + 0.01 * Math.sin(7 * t + i)),
    );
    const flat = new Float64Array(20 * n);
    rows.forEach((r, i) => flat.set(r, i * n));
    const rank = await bothEngines("a + b * x + c", d.x[0], flat, {
      p0: [0.5, 1, 0.5],
    });
    agreement(rank.cpu, rank.gpu, rank.p);
    assert.ok(rank.gpu.flags.every((f) => (f & 1) === 1));
  },
);

gpuTest(
  "WebGPU batch: chunks beyond a small forced binding limit and fit count",
  async () => {
    const d = makeBatch("gaussian", 1000, 32, { seed: 36, noise: 0.01 });
    const whole = await bothEngines(d.expr, d.x[0], d.y, { p0: d.p0 });
    // 2 KiB bindings: a fit's record (36 f64 values) is its largest array,
    // so 7 fits per chunk, 143 chunks.
    const small = await runWebGpuBatch(
      resolveBatch(d.expr, d.x[0], d.y, { p0: d.p0 }),
      { maxBindingBytes: 2048 },
    );
    assert.strictEqual(small.chunks, 143);
    assert.deepStrictEqual(small.outputs.popt, whole.gpu.popt);
    assert.deepStrictEqual(small.outputs.status, whole.gpu.status);
    const odd = await runWebGpuBatch(
      resolveBatch(d.expr, d.x[0], d.y, { p0: d.p0 }),
      { maxFitsPerChunk: 333 },
    );
    assert.strictEqual(odd.chunks, 4);
    assert.deepStrictEqual(odd.outputs.popt, whole.gpu.popt);
    await assert.rejects(
      runWebGpuBatch(resolveBatch(d.expr, d.x[0], d.y, { p0: d.p0 }), {
        maxBindingBytes: 64,
      }),
      RangeError,
    );
  },
);

gpuTest(
  "WebGPU batch: a dispatch per iteration budget gives the same answers",
  async () => {
    // 2048 points: lavapipe's loop cap allows 116 iterations per dispatch.
    const d = makeBatch("gaussian", 40, 2048, { seed: 37, noise: 0.01 });
    const r = await bothEngines(d.expr, d.x[0], d.y, { p0: d.p0 });
    const w = agreement(r.cpu, r.gpu, r.p);
    assert.ok(w.poptInSigmas < 1e-6, `popt differs by ${w.poptInSigmas} sigma`);
    // One iteration per dispatch: every fit continues from its saved state
    // (dispatched in rounds until none is running), to the same bits.
    const e = makeBatch("gaussian", 100, 32, { seed: 42, noise: 0.01 });
    const pr = resolveBatch(e.expr, e.x[0], e.y, { p0: e.p0 });
    const once = await runWebGpuBatch(pr);
    const step = await runWebGpuBatch(pr, { maxItersPerDispatch: 1 });
    assert.strictEqual(once.dispatches, 1);
    const most = Math.max(...once.outputs.nfev);
    // Rounds of 2, 2, 4, 8... dispatches until the slowest fit is done.
    assert.ok(step.dispatches >= most - 1 && step.dispatches < 2 * most);
    assert.deepStrictEqual(step.outputs, once.outputs);
  },
);

gpuTest(
  "WebGPU batch f32 + CPU polish equals the CPU engine to 1e-8",
  async () => {
    const d = makeBatch("gaussian", 2000, 32, { seed: 38, noise: 0.01 });
    const r = await bothEngines(d.expr, d.x[0], d.y, { p0: d.p0 }, {
      precision: "f32",
    });
    assert.strictEqual(r.run.precision, "f32");
    assert.strictEqual(r.run.cpuFits, d.nFits);
    const w = agreement(r.cpu, r.gpu, r.p, true);
    console.log(
      `    f32 + polish vs CPU (noisy Gaussians): ${w.popt} relative`,
    );
    assert.ok(w.popt < 1e-8, `popt differs by ${w.popt} relative`);
    assert.ok(w.perr < 1e-6, `perr differs by ${w.perr} relative`);
    const e = makeBatch("exp3", 1000, 32, { seed: 39 });
    const bounds: [number[], number[]] = [[0, 0, 0], [10, 1.2, 5]];
    const p0 = e.p0.map((v, k) =>
      k % 3 === 1 ? Math.min(v, 1.2) : k % 3 === 2 ? Math.max(v, 0.3) : v
    );
    const b = await bothEngines(e.expr, e.x[0], exactRows(e, e.truth), {
      p0,
      bounds,
    }, { precision: "f32" });
    const wb = agreement(b.cpu, b.gpu, b.p, true);
    console.log(`    f32 + polish vs CPU (exp3, bounds): ${wb.popt} relative`);
    assert.ok(wb.popt < 1e-8, `popt differs by ${wb.popt} relative`);
    // A device without shader-f64 gets the f32 kernel and the polish.
    const no64 = await runWebGpuBatch(
      resolveBatch(d.expr, d.x[0], d.y.subarray(0, 200 * 32), {
        p0: d.p0.subarray(0, 200 * 4),
      }),
      { device: { disableF64: true } },
    );
    assert.strictEqual(no64.precision, "f32");
    assert.match(no64.label, /f32 \+ CPU polish/);
    for (let k = 0; k < 200 * 4; k++) {
      const x = r.cpu.popt[k];
      assert.ok(Math.abs(no64.outputs.popt[k] - x) < 1e-8 * Math.abs(x));
    }
    await assert.rejects(
      runWebGpuBatch(resolveBatch(d.expr, d.x[0], d.y, { p0: d.p0 }), {
        precision: "f64",
        device: { disableF64: true },
      }),
      /no shader-f64/,
    );
  },
);

gpuTest(
  "fitBatch backend webgpu: results, labels, and what it does not take",
  async () => {
    const d = makeBatch("gaussian", 300, 32, { seed: 40, noise: 0.01 });
    const m = model(d.expr);
    const g = await fitBatch(m, d.x[0], d.y, { p0: d.p0, backend: "webgpu" });
    const c = await fitBatch(m, d.x[0], d.y, { p0: d.p0, backend: "cpu" });
    assert.match(
      g.backend,
      /^webgpu \(batch engine, .*, f(64|32 \+ CPU polish)\)$/,
    );
    assert.deepStrictEqual(g.status, c.status);
    // Progress by chunk, and an abort between chunks.
    const seen: number[] = [];
    const ctl = new AbortController();
    await assert.rejects(
      runWebGpuBatch(
        resolveBatch(m, d.x[0], d.y, {
          p0: d.p0,
          signal: ctl.signal,
          onProgress: ({ done, total }) => {
            assert.strictEqual(total, 300);
            seen.push(done);
            if (done >= 100) ctl.abort(new Error("stop here"));
          },
        }),
        { maxFitsPerChunk: 50 },
      ),
      /stop here/,
    );
    assert.deepStrictEqual(seen, [50, 100]);
    const all: number[] = [];
    await fitBatch(m, d.x[0], d.y, {
      p0: d.p0,
      backend: "webgpu",
      onProgress: ({ done }) => {
        all.push(done);
      },
    });
    assert.strictEqual(all.at(-1), 300);
    const one = g.result(5);
    assert.ok(
      Math.abs(one.popt[1] - c.popt[5 * 4 + 1]) < 1e-8 * Math.abs(one.popt[1]),
    );
    assert.strictEqual(one.success, true);
    await assert.rejects(
      fitBatch(m, d.x[0], d.y, {
        p0: d.p0,
        backend: "webgpu",
        loss: "soft_l1",
      }),
      (e: Error) => e instanceof TypeError && /loss "soft_l1"/.test(e.message),
    );
    const counts = d.y.map((v) => Math.round(100 * v));
    await assert.rejects(
      fitBatch(m, d.x[0], counts, {
        p0: d.p0.map((v, k) => (k % 4 === 0 || k % 4 === 3 ? 100 * v : v)),
        backend: "webgpu",
        estimator: "poisson",
      }),
      /estimator "poisson"/,
    );
  },
);

gpuTest(
  "fitBatch backend auto: small batches on the CPU, large ones measured",
  async () => {
    const d = makeBatch("exp3", 20_000, 32, { seed: 41, noise: 0.01 });
    const m = model(d.expr);
    const small = await fitBatch(m, d.x[0], d.y.subarray(0, 100 * 32), {
      p0: d.p0.subarray(0, 300),
    });
    assert.match(small.notes.join(" "), /CPU batch engine \(under \d+ fits\)/);
    const big = await fitBatch(m, d.x[0], d.y, { p0: d.p0 });
    const note = big.notes.join(" ");
    assert.match(
      note,
      /measured on \d+ fits each: CPU \d+ fits\/s \(\d+ threads?\), WebGPU \d+ fits\/s/,
    );
    console.log(`    ${note}`);
    const cpu = await fitBatch(m, d.x[0], d.y, { p0: d.p0, backend: "cpu" });
    assert.deepStrictEqual(big.status, cpu.status);
    let worst = 0;
    for (let k = 0; k < cpu.popt.length; k++) {
      const s = cpu.perr[k];
      if (s > 0) {
        worst = Math.max(
          worst,
          Math.abs(big.popt[k] - cpu.popt[k]) / s,
        );
      }
    }
    assert.ok(worst < 1e-6, `auto differs from cpu by ${worst} sigma`);
  },
);

Deno.test("WebGPU batch kernel: generated for the problem's shape", () => {
  const m = model("a * exp(-b * x) + c");
  const spec = {
    ssa: modelSsa(m),
    nParams: 3,
    nVars: 1,
    nPoints: 10,
    free: [0, 1],
    precision: "f64" as const,
    bounded: true,
    boundsPerFit: false,
    p0PerFit: false,
    xPerFit: false,
    weightShared: true,
    sigmaPerFit: false,
    omit: false,
    workgroupSize: 64,
  };
  const k = batchWgsl(spec);
  // Two free parameters: a 3-entry packed H; shared x, w, p0 and bounds.
  assert.match(k.code, /var<private> H: array<f64, 3>;/);
  assert.strictEqual(k.layout.sharedX, 8);
  assert.strictEqual(k.layout.sharedW, 18);
  assert.strictEqual(k.layout.sharedSize, 8 + 10 + 10 + 3 * 3);
  assert.match(batchWgsl({ ...spec, precision: "f32" }).code, /array<f32>/);
  assert.throws(
    () => batchWgsl({ ...spec, nParams: 13, free: [...Array(13).keys()] }),
    RangeError,
  );
});
