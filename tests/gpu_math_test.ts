// Every WGSL function of the model language against Math.* on a grid, in
// f64 (software implementations) and f32, on the WebGPU device.
import assert from "node:assert";
import { acquireDevice, isWebGpuAvailable } from "../gpu/mod.ts";
import { FUNCTION_ARITY } from "../model/ast.ts";
import {
  type Precision,
  wgslCall,
  wgslMathLibrary,
} from "../gpu/_wgsl_math.ts";

const HAS_GPU = await isWebGpuAvailable();
if (!HAS_GPU) {
  console.warn("gpu_math_test: no WebGPU adapter, GPU math tests are IGNORED");
}
const HAS_F64 = HAS_GPU && (await acquireDevice()).info.f64;
if (HAS_GPU && !HAS_F64) {
  console.warn("gpu_math_test: no shader-f64, f64 math tests are IGNORED");
}

/** Evaluates `fn` on the device at every (a[i], b[i]). */
async function onGpu(
  fn: string,
  arity: number,
  a: Float64Array,
  b: Float64Array,
  P: Precision,
): Promise<Float64Array> {
  const { device } = await acquireDevice();
  const used = new Set<string>();
  const call = wgslCall(fn, arity === 1 ? ["u[i]"] : ["u[i]", "v[i]"], used);
  const code = `${wgslMathLibrary(used, P)}
@group(0) @binding(0) var<storage, read> u: array<${P}>;
@group(0) @binding(1) var<storage, read> v: array<${P}>;
@group(0) @binding(2) var<storage, read_write> o: array<${P}>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.x;
  if (i < arrayLength(&o)) { _ = v[0]; o[i] = ${call}; }
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
  if (err) throw new Error(`${fn}: ${err.message}`);
  const Arr = P === "f64" ? Float64Array : Float32Array;
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST |
    GPUBufferUsage.COPY_SRC;
  const mk = (d: Float64Array) => {
    const buf = device.createBuffer({
      size: d.length * Arr.BYTES_PER_ELEMENT,
      usage,
    });
    device.queue.writeBuffer(buf, 0, new Arr(d));
    return buf;
  };
  const bufs = [mk(a), mk(b), mk(new Float64Array(a.length))];
  const rb = device.createBuffer({
    size: a.length * Arr.BYTES_PER_ELEMENT,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const bg = device.createBindGroup({
    layout: pipe.getBindGroupLayout(0),
    entries: bufs.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipe);
  pass.setBindGroup(0, bg);
  pass.dispatchWorkgroups(Math.ceil(a.length / 64));
  pass.end();
  enc.copyBufferToBuffer(bufs[2], 0, rb, 0, rb.size);
  device.queue.submit([enc.finish()]);
  await rb.mapAsync(GPUMapMode.READ);
  const out = Float64Array.from(new Arr(rb.getMappedRange().slice(0)));
  rb.unmap();
  for (const x of [...bufs, rb]) x.destroy();
  return out;
}

/** Largest error in units of the last place of the reference. */
function maxUlps(
  got: Float64Array,
  want: (i: number) => number,
  P: Precision,
): { ulps: number; at: number } {
  const eps = P === "f64" ? 2 ** -52 : 2 ** -23;
  const tiny = P === "f64" ? 2 ** -1022 : 2 ** -126;
  let ulps = 0, at = -1;
  for (let i = 0; i < got.length; i++) {
    const r = want(i);
    if (Number.isNaN(r) && Number.isNaN(got[i])) continue;
    if (r === got[i]) continue;
    const e = Math.abs(got[i] - r) / (eps * Math.max(Math.abs(r), tiny));
    if (!(e <= ulps)) {
      ulps = e;
      at = i;
    }
  }
  return { ulps, at };
}

type Case = [
  fn: string,
  arity: number,
  ref: (a: number, b: number) => number,
  lo: number,
  hi: number,
  f64Ulps: number,
  f32Ulps: number,
];
const N = 2048;
const POW_EXPONENTS = [2, 3, -1, 0.5, 1.7, -2.3, 0, 7];
const CASES: Case[] = [
  ["exp", 1, Math.exp, -80, 80, 2, 2],
  ["exp", 1, Math.exp, -745, 709, 2, 0], // f64 range only
  ["log", 1, Math.log, 1e-30, 1e30, 1, 1],
  ["log", 1, Math.log, 0.5, 2, 1, 1],
  ["log", 1, Math.log, 1e-300, 1e300, 1, 0],
  ["log10", 1, Math.log10, 1e-10, 1e10, 2, 2],
  ["sin", 1, Math.sin, -100, 100, 1.5, 1.5],
  ["cos", 1, Math.cos, -100, 100, 1.5, 1.5],
  ["tan", 1, Math.tan, -10, 10, 2.5, 2],
  ["asin", 1, Math.asin, -1, 1, 2, 2.5],
  ["acos", 1, Math.acos, -1, 1, 2, 2],
  ["atan", 1, Math.atan, -50, 50, 1.5, 1.5],
  ["atan2", 2, Math.atan2, -5, 5, 2, 2],
  ["sinh", 1, Math.sinh, -20, 20, 2.5, 2],
  ["sinh", 1, Math.sinh, -710, 710, 3, 0],
  ["cosh", 1, Math.cosh, -20, 20, 2, 2],
  ["tanh", 1, Math.tanh, -20, 20, 2.5, 2],
  // exp(b log|a|): the error grows like |b log|a|| ulps (42 here at worst)
  ["pow", 2, Math.pow, -4, 4, 24, 48],
  ["min", 2, Math.min, -5, 5, 0, 0],
  ["max", 2, Math.max, -5, 5, 0, 0],
  ["sign", 1, Math.sign, -5, 5, 0, 0],
  ["sqrt", 1, Math.sqrt, 0, 100, 0.5, 0.5],
  ["abs", 1, Math.abs, -5, 5, 0, 0],
];

Deno.test("WGSL math: the grids cover every function of the language", () => {
  // erf is checked against a table below, wofz_re and wofz_im against
  // mpmath in model_faddeeva_test.ts; ifLess is a select(), and log1p
  // (losses only) is checked through the robust-loss kernels.
  const covered = new Set([
    ...CASES.map((c) => c[0]),
    "erf",
    "wofz_re",
    "wofz_im",
  ]);
  const missing = [...Object.keys(FUNCTION_ARITY), "sign"].filter((f) =>
    !covered.has(f)
  );
  assert.deepStrictEqual(missing, []);
});

function grid(c: Case, P: Precision): [Float64Array, Float64Array] {
  const [fn, , , lo, hi] = c;
  const a = new Float64Array(N), b = new Float64Array(N);
  const logScale = fn.startsWith("log");
  for (let i = 0; i < N; i++) {
    const t = (i + 0.37) / N;
    a[i] = logScale
      ? Math.exp(Math.log(lo) + t * (Math.log(hi) - Math.log(lo)))
      : lo + t * (hi - lo);
    b[i] = fn === "pow"
      ? POW_EXPONENTS[i % POW_EXPONENTS.length]
      : lo + (((i * 7919) % N) / N) * (hi - lo);
    if (P === "f32") {
      a[i] = Math.fround(a[i]);
      b[i] = Math.fround(b[i]);
    }
  }
  return [a, b];
}

for (const P of ["f64", "f32"] as const) {
  Deno.test({
    name: `WGSL ${P} functions match Math.* on grids`,
    ignore: P === "f64" ? !HAS_F64 : !HAS_GPU,
    fn: async () => {
      const failures: string[] = [];
      for (const c of CASES) {
        const [fn, arity, ref, lo, hi, u64, u32] = c;
        const bound = P === "f64" ? u64 : u32;
        if (
          P === "f32" && bound === 0 &&
          !["min", "max", "sign", "abs"].includes(fn)
        ) {
          continue; // outside the f32 range
        }
        const [a, b] = grid(c, P);
        const got = await onGpu(fn, arity, a, b, P);
        const { ulps, at } = maxUlps(got, (i) => ref(a[i], b[i]), P);
        if (ulps > bound) {
          failures.push(
            `${fn} on [${lo}, ${hi}]: ${ulps.toFixed(2)} ulps > ${bound} at ` +
              `(${a[at]}, ${b[at]}): got ${got[at]}, want ${ref(a[at], b[at])}`,
          );
        }
      }
      assert.deepStrictEqual(failures, []);
    },
  });
}

// erf has no Math counterpart: reference values from mpmath at 40 digits.
const ERF_TABLE: [number, number][] = [
  [-7.0, -1.0],
  [-5.5, -0.9999999999999927],
  [-3.9, -0.9999999652077514],
  [-3.0, -0.9999779095030014],
  [-2.2, -0.9981371537020182],
  [-1.7, -0.9837904585907745],
  [-1.2, -0.9103139782296353],
  [-1.0, -0.8427007929497149],
  [-0.84375, -0.7672256612323416],
  [-0.6, -0.6038560908479259],
  [-0.3, -0.3286267594591274],
  [-0.1, -0.1124629160182849],
  [-0.001, -0.0011283787909692365],
  [-1e-08, -1.1283791670955126e-08],
  [0.0, 0.0],
  [1e-300, 1.1283791670955126e-300],
  [1e-08, 1.1283791670955126e-08],
  [0.001, 0.0011283787909692365],
  [0.05, 0.05637197779701663],
  [0.2, 0.22270258921047847],
  [0.5, 0.5204998778130465],
  [0.7, 0.6778011938374184],
  [0.84, 0.7651427114549945],
  [0.99, 0.8385080695553698],
  [1.0, 0.8427007929497149],
  [1.01, 0.8468104962282768],
  [1.3, 0.9340079449406524],
  [1.5, 0.9661051464753108],
  [1.9, 0.9927904292352575],
  [2.0, 0.9953222650189527],
  [2.01, 0.9955248493552482],
  [2.5, 0.999593047982555],
  [3.0, 0.9999779095030014],
  [3.49, 0.9999992009745795],
  [3.5, 0.9999992569016276],
  [3.51, 0.9999993090477225],
  [4.0, 0.9999999845827421],
  [4.5, 0.9999999998033839],
  [5.0, 0.9999999999984626],
  [5.5, 0.9999999999999927],
  [5.9, 0.9999999999999999],
  [6.0, 1.0],
  [6.5, 1.0],
  [27.0, 1.0],
];

Deno.test({
  name: "WGSL f64 erf matches mpmath to 2 ulps",
  ignore: !HAS_F64,
  fn: async () => {
    const a = Float64Array.from(ERF_TABLE, ([x]) => x);
    const got = await onGpu("erf", 1, a, a, "f64");
    const { ulps, at } = maxUlps(got, (i) => ERF_TABLE[i][1], "f64");
    assert.ok(ulps <= 2, `erf(${a[at]}) = ${got[at]}: ${ulps} ulps`);
  },
});

Deno.test({
  name: "WGSL f32 erf matches mpmath to 4 ulps (of f32)",
  ignore: !HAS_GPU,
  fn: async () => {
    // skip 1e-300, which is 0 in f32
    const rows = ERF_TABLE.filter(([x]) => x === 0 || Math.abs(x) > 1e-30);
    const a = Float64Array.from(rows, ([x]) => Math.fround(x));
    const got = await onGpu("erf", 1, a, a, "f32");
    // reference at the f32-rounded argument: erf'(x) <= 2/sqrt(pi)
    const { ulps, at } = maxUlps(got, (i) => {
      const [x, e] = rows[i];
      return e + (a[i] - x) * (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x);
    }, "f32");
    assert.ok(ulps <= 4, `erf(${a[at]}) = ${got[at]}: ${ulps} ulps`);
  },
});

Deno.test({
  name: "WGSL functions propagate NaN and handle infinities like Math.*",
  ignore: !HAS_F64,
  fn: async () => {
    const a = new Float64Array([NaN, Infinity, -Infinity, 0, -1]);
    for (
      const [fn, ref] of [
        ["exp", Math.exp],
        ["log", Math.log],
        ["atan", Math.atan],
        ["tanh", Math.tanh],
        ["sinh", Math.sinh],
        [
          "erf",
          (
            x: number,
          ) => (Number.isNaN(x)
            ? NaN
            : x === Infinity
            ? 1
            : x === -Infinity
            ? -1
            : x === 0
            ? 0
            : -0.8427007929497149),
        ],
        ["sqrt", Math.sqrt],
      ] as [string, (x: number) => number][]
    ) {
      const got = await onGpu(fn, 1, a, a, "f64");
      for (let i = 0; i < a.length; i++) {
        const want = ref(a[i]);
        if (Number.isFinite(want) && want !== 0) {
          const rel = Math.abs(got[i] - want) / Math.abs(want);
          assert.ok(rel < 5e-16, `${fn}(${a[i]}) = ${got[i]}, want ${want}`);
        } else {
          assert.ok(
            Object.is(got[i], want) || got[i] === want,
            `${fn}(${a[i]}) = ${got[i]}, want ${want}`,
          );
        }
      }
    }
  },
});
