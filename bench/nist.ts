/**
 * The `nist` section of the benchmark: the minimum log relative error (LRE,
 * digits agreeing with NIST's certified values, parameters and residual sum
 * of squares) of every NIST StRD run (27 problems x 2 starts), for this
 * library's TRF and LM and for scipy's `least_squares` TRF and LM (its
 * default 2-point finite-difference Jacobian, as `curve_fit` uses) with the
 * same tolerances, in the same run.
 *
 * @module
 */

import { fit, model } from "../mod.ts";
import { havePython, pythonCommand } from "../tests/_tools.ts";
import { loadNist, lre, minLre, NIST_NAMES } from "../tests/_nist.ts";

/** One row: a problem and start, with each solver's minimum LRE. */
export interface NistRow {
  problem: string;
  start: number;
  trf: number;
  lm: number;
  scipyTrf: number | null;
  scipyLm: number | null;
  /**
   * No start, bounds 1/100 to 100 times each certified value (the global
   * search): minimum LRE, the same once interchangeable terms (the peaks,
   * exponentials or sinusoids of a sum) are matched to NIST's order, and the
   * LRE of the residual sum of squares. Only on the start-1 row.
   */
  global: number | null;
  globalMatched: number | null;
  globalRss: number | null;
}

/**
 * Interchangeable terms of the sums in NIST's models: a fit may find the
 * same minimum with them in another order.
 */
const TERMS: Record<string, number[][]> = {
  Lanczos1: [[0, 1], [2, 3], [4, 5]],
  Lanczos2: [[0, 1], [2, 3], [4, 5]],
  Lanczos3: [[0, 1], [2, 3], [4, 5]],
  Gauss1: [[2, 3, 4], [5, 6, 7]],
  Gauss2: [[2, 3, 4], [5, 6, 7]],
  Gauss3: [[2, 3, 4], [5, 6, 7]],
  ENSO: [[3, 4, 5], [6, 7, 8]],
};

function permutations(n: number): number[][] {
  if (n <= 1) return [[0]];
  return permutations(n - 1).flatMap((p) =>
    Array.from(
      { length: n },
      (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)],
    )
  );
}

/** The best minimum LRE over the orders of the interchangeable terms. */
function matchedLre(name: string, popt: Float64Array, rss: number): number {
  const groups = TERMS[name];
  if (!groups) return minLre(name, popt, rss);
  let best = -Infinity;
  for (const order of permutations(groups.length)) {
    const x = Float64Array.from(popt);
    order.forEach((src, dst) =>
      groups[dst].forEach((k, j) => (x[k] = popt[groups[src][j]]))
    );
    best = Math.max(best, minLre(name, x, rss));
  }
  return best;
}

const TOL = 1e-15;

/** The model in numpy, for scipy (NIST's formulas use few functions). */
function toNumpy(expr: string): string {
  return expr.replace(/\[/g, "(").replace(/\]/g, ")")
    .replace(/\^/g, "**")
    .replace(
      /\b(exp|log|sin|cos|sqrt|arctan|atan)\(/g,
      (_, f) => `np.${f === "atan" ? "arctan" : f}(`,
    )
    .replace(/\bpi\b/g, "np.pi");
}

async function scipyRuns(): Promise<{ popt: number[]; rss: number }[][]> {
  const problems = NIST_NAMES.map((name) => {
    const pr = loadNist(name);
    return {
      f: toNumpy(pr.expression),
      params: pr.params,
      variables: pr.variables,
      x: pr.x.map((c) => Array.from(c)),
      y: Array.from(pr.y),
      starts: [pr.start1, pr.start2],
    };
  });
  const script = `
import json, sys, warnings
import numpy as np
from scipy.optimize import least_squares
warnings.simplefilter("ignore")
out = []
for p in json.load(sys.stdin):
    args = ", ".join(p["variables"] + p["params"])
    f = eval("lambda " + args + ": " + p["f"])
    X = [np.array(c) for c in p["x"]]; y = np.array(p["y"])
    rows = []
    for s in p["starts"]:
        for m in ["trf", "lm"]:
            try:
                r = least_squares(lambda b: f(*X, *b) - y, s, method=m,
                                  ftol=${TOL}, xtol=${TOL}, gtol=${TOL}, max_nfev=5000)
                rows.append({"popt": list(r.x), "rss": float(2 * r.cost)})
            except Exception:
                rows.append(None)
    out.append(rows)
print(json.dumps(out))
`;
  const proc = new Deno.Command(pythonCommand(), {
    args: ["-c", script],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = proc.stdin.getWriter();
  await w.write(new TextEncoder().encode(JSON.stringify(problems)));
  await w.close();
  const o = await proc.output();
  if (!o.success) throw new Error(new TextDecoder().decode(o.stderr));
  return JSON.parse(new TextDecoder().decode(o.stdout));
}

/**
 * Runs every NIST problem from both starts with both methods (and scipy's
 * when python3 has it) and returns the LRE table.
 *
 * @example
 * ```ts
 * import { runNistBench } from "./nist.ts";
 * // const rows = await runNistBench(); // about 2 s, plus scipy
 * void runNistBench;
 * ```
 */
export async function runNistBench(): Promise<NistRow[]> {
  const sp = havePython("numpy, scipy") ? await scipyRuns() : null;
  const rows: NistRow[] = [];
  for (const [i, name] of NIST_NAMES.entries()) {
    const pr = loadNist(name);
    const m = model(pr.expression, {
      variables: pr.variables,
      params: pr.params,
    });
    for (const [k, p0] of [pr.start1, pr.start2].entries()) {
      const lre: Record<string, number> = {};
      for (const method of ["trf", "lm"] as const) {
        const r = await fit(m, pr.x.length === 1 ? pr.x[0] : pr.x, pr.y, {
          p0,
          method,
          ftol: TOL,
          xtol: TOL,
          gtol: TOL,
          maxNfev: 5000,
        });
        lre[method] = minLre(name, r.popt, 2 * r.cost);
      }
      const s = sp?.[i];
      const sLre = (j: number) => {
        const run = s?.[2 * k + j];
        return run ? minLre(name, run.popt, run.rss) : null;
      };
      const g = k === 0 ? await globalFit(name, m, pr) : null;
      rows.push({
        problem: name,
        start: k + 1,
        trf: round1(lre.trf),
        lm: round1(lre.lm),
        scipyTrf: sp ? round1(sLre(0) ?? -1) : null,
        scipyLm: sp ? round1(sLre(1) ?? -1) : null,
        global: g ? round1(g.raw) : null,
        globalMatched: g ? round1(g.matched) : null,
        globalRss: g ? round1(g.rss) : null,
      });
    }
  }
  return rows;
}

/** The fit with no start inside bounds of 1/100 to 100 times the truth. */
async function globalFit(
  name: string,
  m: ReturnType<typeof model>,
  pr: ReturnType<typeof loadNist>,
): Promise<{ raw: number; matched: number; rss: number }> {
  const lower = pr.certified.map((c) => Math.min(c / 100, c * 100));
  const upper = pr.certified.map((c) => Math.max(c / 100, c * 100));
  const r = await fit(m, pr.x.length === 1 ? pr.x[0] : pr.x, pr.y, {
    bounds: [lower, upper],
    ftol: TOL,
    xtol: TOL,
    gtol: TOL,
    maxNfev: 5000,
  });
  const rss = 2 * r.cost;
  return {
    raw: minLre(name, r.popt, rss),
    matched: matchedLre(name, r.popt, rss),
    rss: name === "Lanczos1"
      ? (Math.abs(rss - pr.rss) < 1e-20 ? 15 : 0)
      : lre(rss, pr.rss),
  };
}

function round1(v: number): number {
  return Math.round(Math.max(v, 0) * 10) / 10;
}
