// The batch engine's WebAssembly kernel (f64x2) against the JavaScript
// kernel: the same cost, J^T J and J^T r to rounding, for even and odd
// point counts, with and without weights, at offsets in shared arrays; and
// the models it does not take keep the JavaScript kernel.

import assert from "node:assert";
import { fitBatch, model } from "../mod.ts";
import { modelSsa } from "../model/model_ssa.ts";
import { batchKernelSources } from "../batch/_kernel_source.ts";
import { wasmKernelSource } from "../batch/_wasm_kernel.ts";
import { ENGINE_CHOICES } from "../batch/_engine_source.ts";
import { makeBatch } from "./_batch_data.ts";

type Kernel = (
  X: Float64Array[],
  xo: number,
  y: Float64Array,
  yo: number,
  w: Float64Array | null,
  wo: number,
  n: number,
  P: Float64Array,
  po: number,
  H: Float64Array,
  ho: number,
  G: Float64Array,
  go: number,
) => number;

function kernels(
  expr: string,
  vars: string[],
  free: number[],
  n: number,
  fused = [true, false],
) {
  const m = model(expr, { variables: vars });
  const spec = {
    ssa: modelSsa(m),
    nParams: m.params.length,
    free,
    estimator: "lse" as const,
    loss: "linear" as const,
    fScale: 1,
  };
  const js = batchKernelSources(spec);
  const src = wasmKernelSource(spec, n, fused);
  return {
    js: new Function(`${js.helpers}\nreturn ${js.kernel};`)() as Kernel,
    wasm: src === null
      ? null
      : new Function(`${js.helpers}\nreturn ${src};`)() as Kernel,
  };
}

const CASES: [string, string[], number[], number[]][] = [
  ["a * exp(-(x - m)^2 / (2 * s^2)) + b", ["x"], [0, 1, 2, 3], [
    1.5,
    0.4,
    0.9,
    0.6,
  ]],
  ["a * exp(-b * x) + c", ["x"], [0, 1, 2], [2, 0.7, 0.3]],
  // An invariant exp (in the JavaScript around the module).
  ["a * exp(b) * x + c / (1 + x)", ["x"], [0, 1, 2], [1.3, 0.2, 0.5]],
  // A fixed parameter (b) and a column that is constant (c).
  ["a * exp(-b * x) + c", ["x"], [0, 2], [2, 0.7, 0.3]],
  ["a * exp(-((x - x0)^2 + (y - y0)^2) / (2 * s^2)) + b", ["x", "y"], [
    0,
    1,
    2,
    3,
    4,
  ], [5, 1.2, 0.8, 1.5, 1]],
  ["a * sqrt(x + b) - c * x / (x + b) + x / b", ["x"], [0, 1, 2], [
    1.2,
    0.5,
    0.3,
  ]],
];

Deno.test("wasm kernel: equals the JavaScript kernel to rounding (fused and plain)", () => {
  for (const [expr, vars, free, p0] of CASES) {
    for (
      const [n, fused] of [1, 2, 7, 32, 33, 225].flatMap((n) =>
        [[n, true], [n, false]] as const
      )
    ) {
      const { js, wasm } = kernels(expr, vars, free, n, [fused]);
      if (wasm === null && fused) {
        // A runtime without relaxed SIMD: only the plain variant exists.
        if (n === 1) console.log("relaxed SIMD not available: fused skipped");
        continue;
      }
      assert.ok(wasm !== null, `${expr}: no WebAssembly kernel`);
      const q = free.length, nH = (q * (q + 1)) / 2;
      // Fit 2 of 3 in row-major arrays: offsets 2n (x per fit too).
      const X = vars.map((_, v) =>
        Float64Array.from(
          { length: 3 * n },
          (_, i) => 0.1 + ((i * (v + 3)) % 17) / 4,
        )
      );
      const y = Float64Array.from({ length: 3 * n }, (_, i) => 1 + Math.sin(i));
      const w = Float64Array.from(
        { length: 3 * n },
        (_, i) => 0.5 + (i % 5) / 4,
      );
      const P = new Float64Array([9, ...p0]);
      for (const weights of [null, w]) {
        const out = [js, wasm].map((k) => {
          const H = new Float64Array(nH + 1), G = new Float64Array(q + 1);
          const c = k(X, 2 * n, y, 2 * n, weights, 2 * n, n, P, 1, H, 1, G, 1);
          return [c, ...H.subarray(1), ...G.subarray(1)];
        });
        // Relative to the size of the terms summed (Cauchy-Schwarz: a sum
        // with cancellation is exact only to the rounding of its terms).
        const [c, ...rest] = out[0];
        const diag = free.map((_, a) => rest[a * q - (a * (a - 1)) / 2]);
        const scale = [Math.abs(c)];
        for (let a = 0; a < q; a++) {
          for (let b = a; b < q; b++) scale.push(Math.sqrt(diag[a] * diag[b]));
        }
        for (let a = 0; a < q; a++) scale.push(Math.sqrt(diag[a] * 2 * c));
        out[0].forEach((v, i) => {
          const d = Math.abs(out[1][i] - v) / Math.max(scale[i], 1e-300);
          assert.ok(
            d < 1e-14,
            `${expr}, n ${n}, weights ${weights !== null}: entry ${i} ${
              out[1][i]
            } vs ${v}`,
          );
        });
      }
    }
  }
});

Deno.test("wasm kernel: new data at the same place is read again after reset()", () => {
  const { wasm } = kernels("a * exp(-b * x) + c", ["x"], [0, 1, 2], 8);
  const k = wasm as Kernel & { reset(): void };
  const x = Float64Array.from({ length: 8 }, (_, i) => i / 2);
  const y = new Float64Array(8).fill(1);
  const P = new Float64Array([0, 1, 1]);
  const H = new Float64Array(6), G = new Float64Array(3);
  assert.strictEqual(k([x], 0, y, 0, null, 0, 8, P, 0, H, 0, G, 0), 0);
  y.fill(3); // a chunk's buffer refilled with the next fits
  k.reset();
  assert.strictEqual(k([x], 0, y, 0, null, 0, 8, P, 0, H, 0, G, 0), 16);
});

Deno.test("wasm kernel: a model with other functions keeps the JavaScript kernel", () => {
  for (const expr of ["a * sin(b * x)", "a * x^b", "a * abs(x - b)"]) {
    const m = model(expr);
    assert.strictEqual(
      kernelsOrNull(m),
      null,
      `${expr} should not get a WebAssembly kernel`,
    );
  }
  function kernelsOrNull(m: ReturnType<typeof model>) {
    return wasmKernelSource({
      ssa: modelSsa(m),
      nParams: m.params.length,
      free: [0, 1],
      estimator: "lse",
      loss: "linear",
      fScale: 1,
    }, 16);
  }
});

Deno.test("fitBatch: the WebAssembly and JavaScript kernels find the same fits", async () => {
  const d = makeBatch("gaussian2d", 400, 225, { seed: 5, noise: 0.1 });
  const m = model(d.expr, { variables: d.variables });
  // scipy's tolerances: at the adaptive (tighter) ones the fits iterate in
  // the cost's rounding noise, where the kernels' exp (fdlibm in
  // WebAssembly, a table in JavaScript) part them by a few 1e-9.
  const o = { p0: d.p0, threads: 1, ftol: 1e-8, xtol: 1e-8, gtol: 1e-8 };
  const a = await fitBatch(m, d.x, d.y, o);
  ENGINE_CHOICES.wasm = false;
  let b;
  try {
    b = await fitBatch(m, d.x, d.y, o);
  } finally {
    ENGINE_CHOICES.wasm = true;
  }
  assert.strictEqual(a.nSuccess, 400);
  assert.strictEqual(b.nSuccess, 400);
  let worst = 0;
  a.popt.forEach((v, i) => {
    worst = Math.max(worst, Math.abs(v - b.popt[i]) / Math.abs(b.popt[i]));
  });
  assert.ok(worst < 1e-9, `popt differs by ${worst} relative`);
});
