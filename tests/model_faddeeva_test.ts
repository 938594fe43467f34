// The Faddeeva function of the model language (wofz_re, wofz_im): values
// against mpmath at 40 digits (a stored table) and against scipy's wofz on a
// wide grid, exact derivatives, compiled kernels, and the WGSL version on
// the WebGPU device (f64 and f32).
import assert from "node:assert";
import { model } from "../mod.ts";
import { derivative, parseExpression } from "../model/mod.ts";
import { evalNode } from "../model/_functions.ts";
import { wofzInto } from "../model/_faddeeva.ts";
import { acquireDevice, isWebGpuAvailable } from "../gpu/mod.ts";
import {
  type Precision,
  wgslCall,
  wgslMathLibrary,
} from "../gpu/_wgsl_math.ts";
import { pythonJson, scipyAvailable } from "./_python_json.ts";

type Row = [x: number, y: number, re: number, im: number];
const TABLE: Row[] = JSON.parse(
  await Deno.readTextFile(
    new URL("./fixtures/faddeeva/mpmath_wofz.json", import.meta.url),
  ),
);

interface Errors {
  /** Largest |Re error| / |Re w|. */
  re: number;
  /** Largest |Im error| / |Im w| (|w| where Im w = 0). */
  im: number;
  /** Largest |error| / |w|. */
  abs: number;
  worst: string;
}

/** Relative errors of (re[i], im[i]) against the rows. */
function errors(
  rows: readonly Row[],
  re: ArrayLike<number>,
  im: ArrayLike<number>,
): Errors {
  const e: Errors = { re: 0, im: 0, abs: 0, worst: "" };
  rows.forEach(([x, y, wr, wi], i) => {
    const m = Math.hypot(wr, wi);
    const er = re[i] === wr ? 0 : Math.abs(re[i] - wr) / Math.abs(wr);
    const ei = wi === 0
      ? Math.abs(im[i]) / m
      : Math.abs(im[i] - wi) / Math.abs(wi);
    const ea = Math.hypot(re[i] - wr, im[i] - wi) / m;
    if (!(er <= e.re)) {
      e.re = er;
      e.worst = `re at (${x}, ${y}): ${re[i]} vs ${wr}`;
    }
    if (!(ei <= e.im)) e.im = ei;
    if (!(ea <= e.abs)) e.abs = ea;
  });
  return e;
}

function cpu(rows: readonly Row[]): [Float64Array, Float64Array] {
  const re = new Float64Array(rows.length), im = new Float64Array(rows.length);
  const out = new Float64Array(2);
  rows.forEach(([x, y], i) => {
    wofzInto(x, y, out);
    re[i] = out[0];
    im[i] = out[1];
  });
  return [re, im];
}

const UPPER = TABLE.filter((r) => r[1] >= 0);
const LOWER = TABLE.filter((r) => r[1] < 0);

Deno.test("wofz: within 1e-15 (Re) and 1e-14 (Im) of mpmath for y >= 0", () => {
  assert.ok(UPPER.length > 800);
  const e = errors(UPPER, ...cpu(UPPER));
  console.log(
    `wofz vs mpmath, ${UPPER.length} points with y >= 0: max relative error ` +
      `Re ${e.re.toExponential(2)}, Im ${e.im.toExponential(2)}, |w| ${
        e.abs.toExponential(2)
      }`,
  );
  assert.ok(e.re <= 1e-15, e.worst);
  assert.ok(e.im <= 1e-14, `Im: ${e.im}`);
  assert.ok(e.abs <= 1e-15, `|w|: ${e.abs}`);
});

Deno.test("wofz: y < 0 through the reflection, within 1e-14 of |w|", () => {
  const e = errors(LOWER, ...cpu(LOWER));
  // Re w(x - i y) for small y cancels 2 exp(-z^2) against Re w(-z): the
  // relative error of Re alone grows where Re w << exp(-x^2) (scipy's too).
  assert.ok(e.abs <= 1e-14, `|w|: ${e.abs}`);
  assert.ok(e.re <= 1e-12, e.worst);
});

Deno.test("wofz: special values and symmetries", () => {
  const w = (x: number, y: number) => {
    const o = new Float64Array(2);
    wofzInto(x, y, o);
    return [o[0], o[1]];
  };
  assert.deepStrictEqual(w(0, 0), [1, 0]);
  assert.deepStrictEqual(w(Infinity, 1), [0, 0]);
  assert.deepStrictEqual(w(-Infinity, 0), [0, 0]);
  assert.deepStrictEqual(w(0, Infinity), [0, 0]);
  for (const [x, y] of [[NaN, 1], [1, NaN], [NaN, Infinity]]) {
    assert.ok(w(x, y).every(Number.isNaN), `w(${x}, ${y})`);
  }
  // w(-x + iy) = conj(w(x + iy)); Re w(x) = exp(-x^2) on the real axis.
  for (const [x, y] of [[0.3, 0.2], [4.1, 1e-6], [17, 3], [250, 0.5]]) {
    const [a, b] = w(x, y), [c, d] = w(-x, y);
    assert.strictEqual(a, c);
    assert.strictEqual(b, -d);
  }
  assert.ok(Math.abs(w(2.5, 0)[0] / Math.exp(-6.25) - 1) < 1e-15);
  // Huge |z| without overflow: w ~ i / (sqrt(pi) z).
  const [r, i] = w(1e300, 1e300);
  const c = 1 / Math.sqrt(Math.PI) / 2e300;
  assert.ok(Math.abs(r / c - 1) < 1e-15 && Math.abs(i / c - 1) < 1e-15);
});

Deno.test("wofz_re, wofz_im: exact derivatives (w' = -2zw + 2i/sqrt(pi))", () => {
  const expr = "a * wofz_re((x - b) / c, d) + wofz_im(b * x, d * x)";
  const { ast, params } = parseExpression(expr);
  const h = 1e-6;
  const cases: [number[], number][] = [
    [[1.3, 0.4, 0.8, 0.6], 0.9],
    [[0.7, -2, 1.5, 1e-3], 3.1],
  ];
  for (const [p, x] of cases) {
    for (let k = 0; k < params.length; k++) {
      const d = evalNode(derivative(ast, k), p, [x]);
      const pp = [...p], pm = [...p];
      pp[k] += h;
      pm[k] -= h;
      const fd = (evalNode(ast, pp, [x]) - evalNode(ast, pm, [x])) /
        (2 * h);
      assert.ok(
        Math.abs(d - fd) <= 1e-8 * Math.max(1, Math.abs(fd)),
        `d/d${params[k]} at ${p}: ${d} vs ${fd}`,
      );
    }
  }
});

Deno.test("wofz: compiled kernels and their source agree with the reference", () => {
  const m = model("a * wofz_re((x - b) / c, d) + wofz_im(x, d)");
  const x = Float64Array.from({ length: 50 }, (_, i) => -5 + i * 0.2);
  const p = new Float64Array([2, 0.3, 0.7, 0.4]);
  const y = new Float64Array(50);
  const B = new Float64Array(50 * 5), B2 = new Float64Array(50 * 5);
  m.kernel([x], y, null, p, 0, 50, B, 50, true);
  const rebuilt = new Function(`return ${m.kernelSource}`)();
  rebuilt([x], y, null, p, 0, 50, B2, 50, true);
  assert.deepStrictEqual(B2, B);
  const ast = m.ast!;
  for (let i = 0; i < 50; i++) {
    assert.strictEqual(B[4 * 50 + i], evalNode(ast, p, [x[i]]));
    for (let k = 0; k < 4; k++) {
      const d = evalNode(m.derivatives![k], p, [x[i]]);
      assert.ok(
        Math.abs(B[k * 50 + i] - d) <= 1e-15 * Math.max(1, Math.abs(d)),
      );
    }
  }
});

const HAS_SCIPY = scipyAvailable("model_faddeeva_test");

Deno.test({
  name:
    "wofz: within 1e-13 of scipy.special.wofz for x in [-1e3, 1e3], y in [1e-8, 1e3]",
  ignore: !HAS_SCIPY,
  fn: async () => {
    const xs: number[] = [], ys: number[] = [];
    for (let i = 0; i <= 120; i++) {
      const t = 10 ** (-6 + (9 * i) / 120); // 1e-6 .. 1e3
      for (const x of [t, -t]) {
        for (let j = 0; j <= 44; j++) {
          xs.push(x);
          ys.push(10 ** (-8 + (11 * j) / 44));
        }
      }
    }
    for (let i = 0; i < 4000; i++) {
      xs.push(-40 + (80 * ((i * 7919) % 4000)) / 4000 + 1e-3 * (i % 7));
      ys.push(10 ** (-8 + (11 * ((i * 104729) % 4000)) / 4000));
    }
    const ref = await pythonJson<[number[], number[]]>(
      `from scipy.special import wofz
w = wofz(np.array(data[0]) + 1j * np.array(data[1]))
emit([w.real, w.imag])`,
      [xs, ys],
    );
    const rows: Row[] = xs.map((x, i) => [x, ys[i], ref[0][i], ref[1][i]]);
    const e = errors(rows, ...cpu(rows));
    console.log(
      `wofz vs scipy, ${rows.length} points: max relative difference Re ${
        e.re.toExponential(2)
      }, Im ${e.im.toExponential(2)}, |w| ${e.abs.toExponential(2)}`,
    );
    // scipy's own error against mpmath reaches 6e-14 (Re) and 4e-13 (Im).
    assert.ok(e.re <= 1e-13, e.worst);
    assert.ok(e.abs <= 1e-13, `|w|: ${e.abs}`);
    assert.ok(e.im <= 1e-12, `Im: ${e.im}`);
  },
});

const HAS_GPU = await isWebGpuAvailable();
const HAS_F64 = HAS_GPU && (await acquireDevice()).info.f64;
if (!HAS_GPU) {
  console.warn("model_faddeeva_test: no WebGPU adapter, WGSL tests IGNORED");
}

/** Re and Im of the WGSL w at every row, on the device. */
async function onGpu(
  rows: readonly Row[],
  P: Precision,
): Promise<[Float64Array, Float64Array]> {
  const { device } = await acquireDevice();
  const used = new Set<string>();
  const re = wgslCall("wofz_re", ["u[i]", "v[i]"], used);
  const im = wgslCall("wofz_im", ["u[i]", "v[i]"], used);
  const code = `${wgslMathLibrary(used, P)}
@group(0) @binding(0) var<storage, read> u: array<${P}>;
@group(0) @binding(1) var<storage, read> v: array<${P}>;
@group(0) @binding(2) var<storage, read_write> o: array<${P}>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.x;
  if (i < arrayLength(&u)) { o[2u * i] = ${re}; o[2u * i + 1u] = ${im}; }
}`;
  device.pushErrorScope("validation");
  const pipe = device.createComputePipeline({
    layout: "auto",
    compute: {
      module: device.createShaderModule({ code }),
      entryPoint: "main",
    },
  });
  const err = await device.popErrorScope();
  if (err) throw new Error(err.message);
  const Arr = P === "f64" ? Float64Array : Float32Array;
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST |
    GPUBufferUsage.COPY_SRC;
  const mk = (d: ArrayLike<number>) => {
    const b = device.createBuffer({
      size: d.length * Arr.BYTES_PER_ELEMENT,
      usage,
    });
    device.queue.writeBuffer(b, 0, Arr.from(d));
    return b;
  };
  const bufs = [
    mk(rows.map((r) => r[0])),
    mk(rows.map((r) => r[1])),
    mk(new Float64Array(2 * rows.length)),
  ];
  const rb = device.createBuffer({
    size: 2 * rows.length * Arr.BYTES_PER_ELEMENT,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipe);
  pass.setBindGroup(
    0,
    device.createBindGroup({
      layout: pipe.getBindGroupLayout(0),
      entries: bufs.map((buffer, binding) => ({
        binding,
        resource: { buffer },
      })),
    }),
  );
  pass.dispatchWorkgroups(Math.ceil(rows.length / 64));
  pass.end();
  enc.copyBufferToBuffer(bufs[2], 0, rb, 0, rb.size);
  device.queue.submit([enc.finish()]);
  await rb.mapAsync(GPUMapMode.READ);
  const out = Float64Array.from(new Arr(rb.getMappedRange().slice(0)));
  rb.unmap();
  for (const b of [...bufs, rb]) b.destroy();
  return [out.filter((_, i) => i % 2 === 0), out.filter((_, i) => i % 2 === 1)];
}

Deno.test({
  name: "wofz: WGSL f64 within 1e-15 (Re) and 1e-14 (Im) of mpmath",
  ignore: !HAS_F64,
  fn: async () => {
    const e = errors(UPPER, ...(await onGpu(UPPER, "f64")));
    console.log(
      `WGSL f64 wofz vs mpmath: max relative error Re ${
        e.re.toExponential(2)
      }, Im ${e.im.toExponential(2)}`,
    );
    assert.ok(e.re <= 1e-15, e.worst);
    assert.ok(e.im <= 1e-14, `Im: ${e.im}`);
    const l = errors(LOWER, ...(await onGpu(LOWER, "f64")));
    assert.ok(l.abs <= 1e-14, `y < 0: ${l.abs}`);
  },
});

Deno.test({
  name: "wofz: WGSL f32 within 2e-6 of |w| where the inputs are f32 numbers",
  ignore: !HAS_GPU,
  fn: async () => {
    const rows = UPPER.filter((r) =>
      Math.fround(r[0]) === r[0] && Math.fround(r[1]) === r[1] &&
      Math.abs(r[0]) < 1e30 &&
      Math.hypot(r[2], r[3]) > 1e-30
    );
    assert.ok(rows.length > 50);
    const e = errors(rows, ...(await onGpu(rows, "f32")));
    assert.ok(e.abs <= 2e-6, `|w|: ${e.abs}`);
  },
});
