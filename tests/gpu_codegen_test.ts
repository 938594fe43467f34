// Code generation tests: pure TypeScript, no GPU needed.
import assert from "node:assert";
import { model } from "../model/model.ts";
import { modelSsa } from "../model/model_ssa.ts";
import { liveInstructions } from "../model/ssa_analysis.ts";
import { LOSS_NAMES } from "../core/loss.ts";
import {
  generateKernel,
  generateReduceKernel,
  wgslLiteral,
} from "../gpu/mod.ts";

Deno.test("wgslLiteral round-trips f64 values and rounds f32", () => {
  assert.strictEqual(wgslLiteral(1, "f64"), "1.0lf");
  assert.strictEqual(wgslLiteral(-0, "f64"), "-0.0lf");
  assert.strictEqual(wgslLiteral(1e-7, "f64"), "1e-7lf");
  assert.strictEqual(wgslLiteral(Math.PI, "f64"), "3.141592653589793lf");
  assert.strictEqual(wgslLiteral(0.1, "f32"), `${Math.fround(0.1)}f`);
  assert.throws(() => wgslLiteral(Infinity, "f64"), RangeError);
  assert.throws(() => wgslLiteral(1e300, "f32"), RangeError);
});

Deno.test("generateKernel: layout of the records", () => {
  const k = generateKernel(model("a * exp(-b * x) + c"), {
    precision: "f64",
    weighted: true,
  });
  assert.strictEqual(k.nParams, 3);
  assert.strictEqual(k.nVars, 1);
  assert.strictEqual(k.stride, 3); // x, y, w
  assert.strictEqual(k.nFull, 10); // cost + 3 + 6
  assert.strictEqual(k.valuesPerComponent, 1);
  const k2 = generateKernel(
    model("a * x1 + b * x2", { variables: ["x1", "x2"] }),
    {
      precision: "f32",
    },
  );
  assert.strictEqual(k2.stride, 3); // x1, x2, y
  assert.strictEqual(k2.valuesPerComponent, 2);
});

Deno.test("generateKernel: f64 uses the software math library, f32 the builtins where accurate", () => {
  const m = model("a * exp(-b * x) + c * sin(x) + erf(x / d)");
  const k64 = generateKernel(m, { precision: "f64" });
  for (const fn of ["nl_exp", "nl_sin", "nl_erf"]) {
    assert.match(k64.code, new RegExp(`fn ${fn}\\(x: f64\\)`));
  }
  // no f64 transcendental builtin is called (they return garbage on Vulkan)
  assert.doesNotMatch(k64.code, /[^_a-z](exp|sin|log)\(/);
  const k32 = generateKernel(m, { precision: "f32" });
  assert.match(k32.code, /return sin\(x\)/);
  assert.doesNotMatch(k32.code, /f64/);
});

Deno.test("generateKernel: f32 accumulation is guarded against reassociation", () => {
  const k = generateKernel(model("a * x + b"), { precision: "f32" });
  // select(s, a, b == 0) keeps (s - a) from being folded to b
  assert.match(k.code, /select\(s, a0, b0 == 0\.0f\)/);
  // points are summed in blocks of 8 (2 vec4s) before the compensated flush
  assert.match(k.code, /for \(var u = 0u; u < 2u; u\+\+\)/);
  assert.match(k.code, /e0 = e0 \+/);
});

Deno.test("generateKernel: robust losses add the scipy scaling", () => {
  const m = model("a * x + b");
  const lin = generateKernel(m, { precision: "f64" });
  assert.doesNotMatch(lin.code, /let js/);
  for (const loss of LOSS_NAMES.filter((l) => l !== "linear")) {
    const k = generateKernel(m, { precision: "f64", loss });
    assert.match(k.code, /let js = sqrt\(max\(rho1 \+ 2\.0lf \* rho2 \* z/);
    assert.match(k.code, /let j0 = js \*/);
  }
});

Deno.test("generateKernel: parameter-only subexpressions are hoisted out of the loop", () => {
  const k = generateKernel(model("a * exp(-(b * c) * x)"), {
    precision: "f64",
  });
  const body = k.code.slice(
    k.code.indexOf("fn full("),
    k.code.indexOf("fn cost("),
  );
  const loop = body.indexOf("for (var q");
  const bc = body.search(/let t\d+: f64 = p1 \* p2;/);
  assert.ok(loop > 0 && bc > 0 && bc < loop);
  // ...and computed once, not once per vec4 component in the loop.
  assert.strictEqual(body.match(/= p1 \* p2;/g)?.length, 1);
});

Deno.test("codegen: the JavaScript and WGSL kernels run the one SSA program", () => {
  // Models whose simplification changes the program: 0 * b, 1 * u, --u,
  // numeric factors, and a plain one.
  for (
    const expr of [
      "a + 0 * b * x + 3",
      "1 * a * exp(-(-b) * x) + 2 * (3 * c)",
      "-(a * x) ^ 2 + b / (1 * x + c)",
      "a * exp(-b * x) + c",
    ]
  ) {
    const m = model(expr);
    const ssa = modelSsa(m);
    const live = liveInstructions(ssa, ssa.outputs.map((_, j) => j));
    const want = ssa.instructions.map((_, i) => i).filter((i) => live[i]);
    const defined = (src: string, re: RegExp) =>
      [...new Set([...src.matchAll(re)].map((t) => Number(t[1])))].sort((
        a,
        b,
      ) => a - b);
    const code = generateKernel(m, { precision: "f64" }).code;
    const full = code.slice(code.indexOf("fn full("), code.indexOf("fn cost("));
    assert.deepStrictEqual(defined(full, /let t(\d+): f64 = /g), want, expr);
    const js = m.kernelSource!;
    assert.deepStrictEqual(defined(js, /const t(\d+) = /g), want, expr);
  }
});

Deno.test("generateKernel: rejects function models and bad workgroup sizes", () => {
  const fm = model((x: number, a: number) => a * x);
  assert.throws(() => generateKernel(fm, { precision: "f64" }), TypeError);
  assert.throws(
    () =>
      generateKernel(model("a * x"), { precision: "f64", workgroupSize: 48 }),
    TypeError,
  );
  assert.throws(() => generateReduceKernel("f64", 100), TypeError);
});

Deno.test("generateKernel: reductions come in rounds that fit workgroup memory", () => {
  const m = model("a*x + b*x^2 + c*x^3 + d*x^4 + e1*x^5 + f*x^6 + g*x^7 + h");
  const k = generateKernel(m, {
    precision: "f64",
    workgroupSize: 64,
    workgroupStorageBytes: 4096, // 8 components per round
  });
  assert.strictEqual(k.nFull, 1 + 8 + 36);
  const full = k.code.slice(
    k.code.indexOf("fn full("),
    k.code.indexOf("fn cost("),
  );
  assert.strictEqual(
    full.match(/workgroupBarrier\(\);\n {2}for \(var s/g)?.length,
    6,
  );
  assert.match(k.code, /var<workgroup> sh: array<f64, 512>/);
});

Deno.test("codegen: the blocked f64 loop and its laneBlock checks", () => {
  const m = model("a * exp(-b * x) + c");
  const blocked = generateKernel(m, { precision: "f64", laneBlock: 4 });
  assert.match(blocked.code, /let iters = \(nq \+ step - 1u\) \/ step;/);
  assert.match(blocked.code, /\(lid \/ 4u\) \* iters \* 4u \+ lid % 4u/);
  const strided = generateKernel(m, { precision: "f64" });
  assert.match(strided.code, /q < nq; q \+= step/);
  for (const laneBlock of [-1, 3, 0.5, 128]) {
    assert.throws(
      () => generateKernel(m, { precision: "f64", laneBlock }),
      /laneBlock must be 0 or an integer dividing workgroupSize/,
    );
  }
});
