/**
 * Writes the example data files of `examples/data/` (used by the README, the
 * CLI tests and the demo). Deterministic: a seeded generator, and values
 * rounded to 6 decimals before they are written, so that the CSV, TSV, NPY
 * and HDF5 files hold exactly the same doubles and fit to the same popt.
 *
 *     deno run -A examples/make_data.ts [outDir]
 *
 * Files:
 * - `misra1a.csv`: NIST StRD Misra1a (x = pressure, y = volume), 14 rows;
 *   model `b1*(1-exp(-b2*x))`, certified b1 = 238.94212918, b2 = 5.5015643181e-4.
 * - `decay.{csv,tsv,npy,h5}`: `5*exp(-0.8*t) + 1` plus Gaussian noise with
 *   sigma = 0.04 + 0.01 t, 200 rows; columns `t, signal, sigma` (NPY: a
 *   200 x 3 table; HDF5: datasets `/t`, `/signal`, `/sigma` and `/table`).
 * - `gauss2d.csv`: a 2-D Gaussian peak on a 25 x 25 grid, columns `u, v, z`,
 *   for multi-variable models.
 *
 * HDF5 files carry creation times in their metadata, so `decay.h5` differs
 * byte for byte between runs; its data does not.
 *
 * @module
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** NIST StRD Misra1a data: [y, x] pairs as printed in Misra1a.dat. */
const MISRA1A: readonly [number, number][] = [
  [10.07, 77.6],
  [14.73, 114.9],
  [17.94, 141.1],
  [23.93, 190.8],
  [29.61, 239.9],
  [35.18, 289.0],
  [40.02, 332.8],
  [44.82, 378.4],
  [50.76, 434.8],
  [55.05, 477.3],
  [61.01, 536.8],
  [66.40, 593.1],
  [75.47, 689.1],
  [81.78, 760.0],
];

/** mulberry32: a small, well-mixed 32-bit generator (deterministic). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draws by Box-Muller. */
function gaussian(seed: number): () => number {
  const u = mulberry32(seed);
  return () => {
    const u1 = Math.max(u(), 1e-300);
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u());
  };
}

const round6 = (v: number) => Math.round(v * 1e6) / 1e6;

/** The decay data set: columns t, signal, sigma. */
function decayColumns(): { t: number[]; signal: number[]; sigma: number[] } {
  const normal = gaussian(20240601);
  const t: number[] = [], signal: number[] = [], sigma: number[] = [];
  for (let i = 0; i < 200; i++) {
    const ti = round6(i * 0.05);
    const si = round6(0.04 + 0.01 * ti);
    t.push(ti);
    sigma.push(si);
    signal.push(round6(5 * Math.exp(-0.8 * ti) + 1 + si * normal()));
  }
  return { t, signal, sigma };
}

/** The 2-D Gaussian data set: columns u, v, z. */
function gauss2dColumns(): { u: number[]; v: number[]; z: number[] } {
  const normal = gaussian(7);
  const u: number[] = [], v: number[] = [], z: number[] = [];
  for (let i = 0; i < 25; i++) {
    for (let j = 0; j < 25; j++) {
      const ui = round6(-3 + i * 0.25), vj = round6(-3 + j * 0.25);
      const r2 = (ui - 0.5) ** 2 + (vj + 0.3) ** 2;
      u.push(ui);
      v.push(vj);
      z.push(
        round6(4 * Math.exp(-r2 / (2 * 1.1 ** 2)) + 0.2 + 0.02 * normal()),
      );
    }
  }
  return { u, v, z };
}

function table(
  names: readonly string[],
  columns: readonly (readonly number[])[],
  delimiter: string,
): string {
  const rows = [names.join(delimiter)];
  for (let i = 0; i < columns[0].length; i++) {
    rows.push(columns.map((c) => String(c[i])).join(delimiter));
  }
  return rows.join("\n") + "\n";
}

/**
 * An NPY (format 1.0) file of a little-endian float64 table in C order.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const bytes = npyBytes([[1, 2, 3], [4, 5, 6]]);
 * assert.strictEqual(bytes.length % 8, 0);
 * assert.deepStrictEqual([...bytes.subarray(1, 6)], [..."NUMPY"].map((c) => c.charCodeAt(0)));
 * const header = new TextDecoder().decode(bytes.subarray(10, 128));
 * assert.match(header, /'shape': \(3, 2\)/);
 * assert.deepStrictEqual([...new Float64Array(bytes.buffer, 128)], [1, 4, 2, 5, 3, 6]);
 * ```
 *
 * @param columns The table's columns, all of the same length.
 */
export function npyBytes(columns: readonly (readonly number[])[]): Uint8Array {
  const n = columns[0].length, k = columns.length;
  const dict =
    `{'descr': '<f8', 'fortran_order': False, 'shape': (${n}, ${k}), }`;
  // Magic (6) + version (2) + header length (2) + header, padded with spaces
  // and a newline to a multiple of 64 bytes, as numpy writes it.
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const header = dict.padEnd(total - 10 - 1) + "\n";
  const out = new Uint8Array(total + n * k * 8);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  const data = new DataView(out.buffer, total);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      data.setFloat64((i * k + j) * 8, columns[j][i], true);
    }
  }
  return out;
}

/**
 * Writes every example file into `outDir` (created if missing) and returns
 * their paths.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const dir = await Deno.makeTempDir();
 * await makeExampleData(dir);
 * const csv = await Deno.readTextFile(`${dir}/decay.csv`);
 * assert.strictEqual(csv.split("\n")[0], "t,signal,sigma");
 * assert.strictEqual(csv.trim().split("\n").length, 201);
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param outDir Target directory (default: `examples/data/` next to this file).
 */
export async function makeExampleData(outDir?: string): Promise<string[]> {
  const dir = outDir ?? fileURLToPath(new URL("./data/", import.meta.url));
  await Deno.mkdir(dir, { recursive: true });
  const written: string[] = [];
  const write = async (name: string, data: string | Uint8Array) => {
    const path = join(dir, name);
    if (typeof data === "string") await Deno.writeTextFile(path, data);
    else await Deno.writeFile(path, data);
    written.push(path);
  };

  await write(
    "misra1a.csv",
    table(
      ["x", "y"],
      [MISRA1A.map((r) => r[1]), MISRA1A.map((r) => r[0])],
      ",",
    ),
  );
  const d = decayColumns();
  const names = ["t", "signal", "sigma"];
  const cols = [d.t, d.signal, d.sigma];
  await write("decay.csv", table(names, cols, ","));
  await write("decay.tsv", table(names, cols, "\t"));
  await write("decay.npy", npyBytes(cols));
  const g = gauss2dColumns();
  await write("gauss2d.csv", table(["u", "v", "z"], [g.u, g.v, g.z], ","));

  // h5wasm is loaded only here, so the rest works without it.
  const { default: h5wasm } = await import("h5wasm/node");
  await h5wasm.ready;
  const h5path = join(dir, "decay.h5");
  await Deno.remove(h5path).catch(() => {});
  const f = new h5wasm.File(h5path, "w");
  try {
    names.forEach((name, j) =>
      f.create_dataset({ name, data: Float64Array.from(cols[j]) })
    );
    const interleaved = new Float64Array(d.t.length * 3);
    for (let i = 0; i < d.t.length; i++) {
      for (let j = 0; j < 3; j++) interleaved[i * 3 + j] = cols[j][i];
    }
    f.create_dataset({
      name: "table",
      data: interleaved,
      shape: [d.t.length, 3],
    });
  } finally {
    f.close();
  }
  written.push(h5path);
  return written;
}

if (import.meta.main) {
  for (const path of await makeExampleData(Deno.args[0])) {
    console.log(`wrote ${path}`);
  }
}
