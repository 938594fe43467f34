import assert from "node:assert";
import { model } from "../model/model.ts";
import { parseExpression } from "../model/parser.ts";
import { NIST_DIR } from "./_nist.ts";

// Reader of the NIST StRD nonlinear regression files: model formula,
// certified values and data.

interface NistProblem {
  name: string;
  /** Right-hand side of the model, as written in the file. */
  formula: string;
  /** Whether the left-hand side is log[y] (Nelson). */
  logY: boolean;
  nParams: number;
  certified: number[];
  rss: number;
  /** Columns x (one per predictor) and y. */
  x: Float64Array[];
  y: Float64Array;
}

function nistNames(): string[] {
  const names: string[] = [];
  for (const e of Deno.readDirSync(NIST_DIR)) {
    if (e.name.endsWith(".dat")) names.push(e.name.slice(0, -4));
  }
  return names.sort();
}

function readNist(name: string): NistProblem {
  const lines = Deno.readTextFileSync(new URL(`${name}.dat`, NIST_DIR))
    .split(/\r?\n/);
  const at = lines.findIndex((l) => l.startsWith("Model:"));
  const nParams = Number(/(\d+) Parameters/.exec(lines[at + 1])![1]);
  // The formula starts at the first "... = ..." line that is not "pi = ...",
  // and continues until a blank line.
  let i = at + 2;
  while (!/=/.test(lines[i]) || /^\s*pi\s*=/.test(lines[i])) i++;
  const parts: string[] = [];
  for (; lines[i].trim() !== ""; i++) parts.push(lines[i].trim());
  let formula = parts.join(" ");
  const lhs = /^(y|log\[y\])\s*=\s*/.exec(formula)!;
  formula = formula.slice(lhs[0].length).replace(/\+\s*e\s*$/, "").trim();
  const certified: number[] = [];
  for (const l of lines) {
    const m = /^\s*b(\d+)\s*=\s*\S+\s+\S+\s+(\S+)\s+\S+\s*$/.exec(l);
    if (m) certified[Number(m[1]) - 1] = Number(m[2]);
  }
  const rss = Number(
    /Residual Sum of Squares:\s*(\S+)/.exec(lines.join("\n"))![1],
  );
  const d = lines.findIndex((l) => /^Data:\s+y\s/.test(l));
  const rows = lines.slice(d + 1).filter((l) => l.trim() !== "").map((l) =>
    l.trim().split(/\s+/).map(Number)
  );
  const nx = rows[0].length - 1;
  const x = Array.from(
    { length: nx },
    (_, k) => Float64Array.from(rows, (r) => r[k + 1]),
  );
  const y = Float64Array.from(rows, (r) => r[0]);
  return { name, formula, logY: lhs[1] !== "y", nParams, certified, rss, x, y };
}

const PROBLEMS = nistNames().map(readNist);
const bNames = (n: number) => Array.from({ length: n }, (_, k) => `b${k + 1}`);
const optionsOf = (p: NistProblem) =>
  p.x.length > 1 ? { variables: ["x1", "x2"] } : {};

Deno.test("nist: all 27 model formulas parse with parameters b1..bk", () => {
  assert.strictEqual(PROBLEMS.length, 27);
  for (const p of PROBLEMS) {
    const r = parseExpression(p.formula, optionsOf(p));
    assert.deepStrictEqual(
      [...r.params].sort(),
      bNames(p.nParams).sort(),
      p.name,
    );
    const ordered = parseExpression(p.formula, {
      ...optionsOf(p),
      params: bNames(p.nParams),
    });
    assert.deepStrictEqual(ordered.params, bNames(p.nParams), p.name);
    assert.deepStrictEqual(
      ordered.variables,
      p.x.length > 1 ? ["x1", "x2"] : ["x"],
    );
  }
  // First use order: ENSO uses b5 before b4, MGH17 b4 before b3.
  const enso = PROBLEMS.find((p) => p.name === "ENSO")!;
  assert.deepStrictEqual(
    parseExpression(enso.formula).params,
    ["b1", "b2", "b3", "b5", "b4", "b6", "b8", "b7", "b9"],
  );
  const bennett = PROBLEMS.find((p) => p.name === "Bennett5")!;
  assert.strictEqual(bennett.formula, "b1 * (b2+x)**(-1/b3)");
});

Deno.test("nist: certified values reproduce the certified residual sum of squares", () => {
  for (const p of PROBLEMS) {
    const m = model(p.formula, { ...optionsOf(p), params: bNames(p.nParams) });
    const n = p.y.length;
    const y = p.logY ? p.y.map(Math.log) : p.y;
    const B = new Float64Array(n * (p.nParams + 1));
    const rss = m.kernel(
      p.x,
      y,
      null,
      new Float64Array(p.certified),
      0,
      n,
      B,
      n,
      false,
    );
    // Certified values carry 11 digits; the sum of squares is flat at the
    // minimum, so it agrees to far better than that. Lanczos1's is ~1e-25.
    assert.ok(
      Math.abs(rss - p.rss) <= 1e-7 * p.rss + 1e-20,
      `${p.name}: ${rss} vs certified ${p.rss}`,
    );
  }
});

Deno.test("nist: exact Jacobians agree with central differences", () => {
  for (const p of PROBLEMS) {
    const m = model(p.formula, { ...optionsOf(p), params: bNames(p.nParams) });
    const n = p.y.length, nP = p.nParams;
    const B = new Float64Array(n * (nP + 1));
    const theta = new Float64Array(p.certified);
    m.kernel(p.x, p.y, null, theta, 0, n, B, n, true);
    for (let k = 0; k < nP; k++) {
      const h = 1e-6 * Math.max(Math.abs(theta[k]), 1e-12);
      const tp = theta.slice(), tm = theta.slice();
      tp[k] += h;
      tm[k] -= h;
      const fp = m.evaluate(p.x, tp), fm = m.evaluate(p.x, tm);
      let norm = 0, diff = 0;
      for (let i = 0; i < n; i++) {
        const fd = (fp[i] - fm[i]) / (tp[k] - tm[k]);
        norm = Math.max(norm, Math.abs(fd));
        diff = Math.max(diff, Math.abs(B[k * n + i] - fd));
      }
      assert.ok(
        diff <= 1e-6 * norm,
        `${p.name} d/db${k + 1}: ${diff} vs ${norm}`,
      );
    }
  }
});
