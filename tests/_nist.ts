/** Loader for the NIST StRD nonlinear regression files in tests/data/nist. */

import { fileURLToPath } from "node:url";

/** One NIST problem. */
export interface NistProblem {
  name: string;
  /** Model expression in our language (right-hand side). */
  expression: string;
  /** Parameter names b1..bk in NIST's order. */
  params: string[];
  /** Variable names (Nelson has two). */
  variables: string[];
  /** Whether the response is log(y) (Nelson). */
  logY: boolean;
  start1: number[];
  start2: number[];
  certified: number[];
  certifiedSd: number[];
  rss: number;
  x: Float64Array[];
  y: Float64Array;
}

/** Directory of the NIST files, shipped inside the repository. */
export const NIST_DIR = new URL("./data/nist/", import.meta.url);

/** Names of the 27 problems. */
export const NIST_NAMES = [
  "Misra1a",
  "Chwirut2",
  "Chwirut1",
  "Lanczos3",
  "Gauss1",
  "Gauss2",
  "DanWood",
  "Misra1b",
  "Kirby2",
  "Hahn1",
  "Nelson",
  "MGH17",
  "Lanczos1",
  "Lanczos2",
  "Gauss3",
  "Misra1c",
  "Misra1d",
  "Roszman1",
  "ENSO",
  "MGH09",
  "Thurber",
  "BoxBOD",
  "Rat42",
  "MGH10",
  "Eckerle4",
  "Rat43",
  "Bennett5",
];

/** Parses one NIST .dat file. */
export function loadNist(name: string): NistProblem {
  const text = Deno.readTextFileSync(
    fileURLToPath(new URL(`${name}.dat`, NIST_DIR)),
  );
  const lines = text.split(/\r?\n/);
  // Model: from the line with "y =" (or "log[y] =") up to "+ e".
  const mi = lines.findIndex((l) => /^\s*(log\[y\]|y)\s*=/.test(l));
  let expr = "";
  for (let i = mi; i < lines.length; i++) {
    expr += " " + lines[i].trim();
    if (/\+\s*e\s*$/.test(lines[i].trim())) break;
  }
  const logY = /^\s*log\[y\]/.test(lines[mi]);
  expr = expr.replace(/^\s*(log\[y\]|y)\s*=/, "").replace(/\+\s*e\s*$/, "")
    .trim();
  const start1: number[] = [],
    start2: number[] = [],
    cert: number[] = [],
    sd: number[] = [];
  for (const l of lines) {
    const m = l.match(/^\s*b(\d+)\s*=\s*(\S+)\s+(\S+)\s+(\S+)\s+(\S+)/);
    if (m) {
      start1.push(Number(m[2]));
      start2.push(Number(m[3]));
      cert.push(Number(m[4]));
      sd.push(Number(m[5]));
    }
  }
  const rssLine = lines.find((l) => /Residual Sum of Squares:/.test(l))!;
  const rss = Number(rssLine.split(":")[1].trim());
  const dl = lines.find((l) => /^\s*Data\s*\(lines/.test(l)) ??
    lines.find((l) => /Data\s+\(lines \d+ to \d+\)/.test(l))!;
  const [, a, b] = dl.match(/lines (\d+) to (\d+)/)!;
  const variables = name === "Nelson" ? ["x1", "x2"] : ["x"];
  const cols: number[][] = variables.map(() => []);
  const y: number[] = [];
  for (let i = Number(a) - 1; i < Number(b); i++) {
    const v = lines[i].trim().split(/\s+/).map(Number);
    y.push(v[0]);
    variables.forEach((_, k) => cols[k].push(v[k + 1]));
  }
  return {
    name,
    expression: expr,
    params: cert.map((_, i) => `b${i + 1}`),
    variables,
    logY,
    start1,
    start2,
    certified: cert,
    certifiedSd: sd,
    rss,
    x: cols.map((c) => Float64Array.from(c)),
    y: Float64Array.from(logY ? y.map(Math.log) : y),
  };
}

/** Log relative error: -log10(|est - cert| / |cert|), capped at 15. */
export function lre(est: number, cert: number): number {
  if (est === cert) return 15;
  const rel = cert === 0
    ? Math.abs(est)
    : Math.abs(est - cert) / Math.abs(cert);
  return Math.min(15, -Math.log10(rel));
}

/**
 * Minimum LRE of a fit over the parameters and the residual sum of squares;
 * Lanczos1's certified RSS (1.4e-25) is compared absolutely (15 within 1e-20,
 * else 0).
 */
export function minLre(
  name: string,
  popt: ArrayLike<number>,
  rss: number,
): number {
  const pr = loadNist(name);
  const lres = pr.certified.map((c, i) => lre(popt[i], c));
  if (name === "Lanczos1") lres.push(Math.abs(rss - pr.rss) < 1e-20 ? 15 : 0);
  else lres.push(lre(rss, pr.rss));
  return Math.min(...lres);
}
