/**
 * The io section of `deno task bench`: how fast the data reaches the
 * kernels.
 *
 * - `io`: MB/s reading each format (NPY, raw, CSV, TSV, HDF5) through
 *   `openSource` (the open and one full pass into reused buffers; for text,
 *   the open parses and later passes read the binary copy), against the
 *   floor (reading the file's bytes into a reused buffer) and numpy
 *   (`np.load`, `np.fromfile`, `np.loadtxt`) in the same run.
 * - `io_fit`: the fit of `a * exp(-b * x) + c` streamed from files (workflow
 *   "streaming" with no other setting, then with `memoryLimitGb: 0.5`)
 *   against the in-memory fit of the same data (workflow "standard": the
 *   first fit of a process, a repeated one, and with shared arrays), each in
 *   a fresh process (`bench/_io_child.ts`), with passes and peak memory; and
 *   a streamed fit of a CSV file against the same fit from NPY.
 *
 * Every figure is the best of `repeats` runs, with the spread (worst / best
 * - 1); the fits' runs are taken in turns, so that the load of a shared
 * machine, which moves, touches every row alike, and each fit also gives
 * its process's CPU time (all threads), which depends less on that load.
 * Sizes: 1e7 points (`--quick`: 1e6); 1e8 points (1.6 GB of NPY) with
 * `--large`. Run alone, `--fits-only` makes the NPY fit rows only (no
 * format reads, no CSV fit).
 *
 * ```sh
 * deno task bench --only=io [--quick] [--large]
 * deno run -A bench/io.ts --fits-only --large
 * ```
 *
 * @module
 */

import { join } from "node:path";
import h5wasm from "h5wasm/node";
import { openSource } from "../mod.ts";
import type { ColumnBuffers } from "../data/source.ts";
import { havePython, pythonCommand } from "../tests/_tools.ts";
import { CASES, makeData } from "./engine.ts";
import type { IoChildResult, IoChildSpec } from "./_io_child.ts";

/** A row of the `io` table. */
export interface IoReadRow {
  section: "io";
  format: string;
  rows: number;
  mb: number;
  /** Reading the file's bytes, MB/s. */
  floorMBs: number;
  /** Open and first full pass, MB/s (text: includes the parse). */
  oursMBs: number;
  /** A later full pass, MB/s. */
  passMBs: number;
  /** numpy's reader, MB/s (null where there is none here). */
  numpyMBs: number | null;
  numpyReader: string;
  /** Spread of our first-pass runs (worst / best - 1). */
  spread: number;
  how: string;
}

/** A row of the `io_fit` table. */
export interface IoFitRow {
  section: "io_fit";
  n: number;
  fit: string;
  timeMs: number;
  spread: number;
  /** Time over the in-memory (first) fit of the same data. */
  vsMemory: number | null;
  /** CPU time of the process over the fit (all threads), ms. */
  cpuMs: number;
  /** CPU time over that of the in-memory (first) fit. */
  cpuVsMemory: number | null;
  openMs: number;
  passes: number;
  peakRssMb: number;
  maxRelDiffVsMemory: number | null;
  backend: string;
}

const CASE = CASES[0]; // a * exp(-b * x) + c

/** Writes an (n, 2) little-endian f64 NPY table block by block. */
async function writeNpy(path: string, x: Float64Array, y: Float64Array) {
  const n = x.length;
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': (${n}, 2), }`;
  header = header.padEnd(Math.ceil((11 + header.length) / 64) * 64 - 11) +
    "\n";
  const head = new Uint8Array(10 + header.length);
  head.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(head.buffer).setUint16(8, header.length, true);
  head.set(new TextEncoder().encode(header), 10);
  await writeRows(path, x, y, head);
}

/** Writes interleaved (x, y) rows of f64 after `head`. */
async function writeRows(
  path: string,
  x: Float64Array,
  y: Float64Array,
  head = new Uint8Array(0),
) {
  const f = await Deno.open(path, {
    write: true,
    create: true,
    truncate: true,
  });
  try {
    await writeAll(f, head);
    const block = 1 << 20;
    const rows = new Float64Array(2 * block);
    for (let s = 0; s < x.length; s += block) {
      const e = Math.min(x.length, s + block);
      for (let i = s, j = 0; i < e; i++, j += 2) {
        rows[j] = x[i];
        rows[j + 1] = y[i];
      }
      await writeAll(f, new Uint8Array(rows.buffer, 0, (e - s) * 16));
    }
  } finally {
    f.close();
  }
}

async function writeAll(f: Deno.FsFile, bytes: Uint8Array) {
  for (let done = 0; done < bytes.length;) {
    done += await f.write(bytes.subarray(done));
  }
}

/** Text with the shortest round-trip form of each value (Python's repr). */
async function writeText(
  path: string,
  x: Float64Array,
  y: Float64Array,
  sep: string,
) {
  const f = await Deno.open(path, {
    write: true,
    create: true,
    truncate: true,
  });
  const enc = new TextEncoder();
  try {
    await writeAll(f, enc.encode(`x${sep}y\n`));
    for (let s = 0; s < x.length; s += 65536) {
      let text = "";
      const e = Math.min(x.length, s + 65536);
      for (let i = s; i < e; i++) text += `${x[i]}${sep}${y[i]}\n`;
      await writeAll(f, enc.encode(text));
    }
  } finally {
    f.close();
  }
}

function writeHdf5(path: string, x: Float64Array, y: Float64Array) {
  const rows = new Float64Array(2 * x.length);
  for (let i = 0; i < x.length; i++) {
    rows[2 * i] = x[i];
    rows[2 * i + 1] = y[i];
  }
  const f = new h5wasm.File(path, "w");
  try {
    f.create_dataset({
      name: "table",
      data: rows,
      shape: [x.length, 2],
      chunks: [65536, 2],
    });
  } finally {
    f.close();
  }
}

/** Best time of `repeats` runs of `fn` (ms), and the spread. */
async function best(
  repeats: number,
  fn: () => Promise<number | void>,
): Promise<{ ms: number; spread: number; extra: number }> {
  let lo = Infinity, hi = 0, extra = 0;
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    const v = await fn();
    const ms = performance.now() - t0;
    if (ms < lo) {
      lo = ms;
      extra = typeof v === "number" ? v : 0;
    }
    hi = Math.max(hi, ms);
  }
  return { ms: lo, spread: hi / lo - 1, extra };
}

/** Reads the whole file into a reused 4 MB buffer: the floor. */
async function readBytes(path: string): Promise<void> {
  const f = await Deno.open(path, { read: true });
  try {
    const buf = new Uint8Array(4 << 20);
    while ((await f.read(buf)) !== null) {
      // bytes only
    }
  } finally {
    f.close();
  }
}

/**
 * Opens the file and reads every row once into reused buffers (the
 * streaming strategy's way); returns the time of a second pass (ms).
 */
async function readSource(
  path: string,
  options: Record<string, unknown>,
): Promise<number> {
  const src = await openSource(path, options);
  try {
    const n = src.length!;
    const rows = 1 << 20;
    const into: ColumnBuffers = {
      x: [new Float64Array(new SharedArrayBuffer(rows * 8))],
      y: new Float64Array(new SharedArrayBuffer(rows * 8)),
    };
    const pass = async () => {
      if (!src.openReader) {
        for await (const _ of src.batches(rows)) {
          // HDF5: batches
        }
        return;
      }
      const reader = await src.openReader();
      try {
        for (let s = 0; s < n; s += rows) {
          await reader.read(s, Math.min(n, s + rows), into);
        }
      } finally {
        reader.close();
      }
    };
    await pass();
    const t0 = performance.now();
    await pass();
    return performance.now() - t0;
  } finally {
    await src.close();
  }
}

/** numpy's reader on each file: best of `repeats`, seconds. */
function numpyTimes(
  files: { path: string; how: string }[],
  repeats: number,
): (number | null)[] {
  if (!havePython("numpy")) return files.map(() => null);
  const script = `
import json, sys, time
import numpy as np
out = []
for path, how in json.loads(sys.argv[1]):
    best = None
    for _ in range(${repeats}):
        t = time.perf_counter()
        if how == "load": a = np.load(path)
        elif how == "fromfile": a = np.fromfile(path, dtype="<f8").reshape(-1, 2)
        elif how == "loadtxt,": a = np.loadtxt(path, delimiter=",", skiprows=1)
        elif how == "loadtxt\\t": a = np.loadtxt(path, delimiter="\\t", skiprows=1)
        else: a = None
        dt = time.perf_counter() - t
        best = dt if best is None or dt < best else best
        del a
    out.append(best if how != "-" else None)
print(json.dumps(out))
`;
  const res = new Deno.Command(pythonCommand(), {
    args: [
      "-c",
      script,
      JSON.stringify(files.map((f) => [f.path, f.how])),
    ],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  if (!res.success) {
    console.error(new TextDecoder().decode(res.stderr));
    return files.map(() => null);
  }
  return JSON.parse(new TextDecoder().decode(res.stdout));
}

/** Runs `bench/_io_child.ts` in a fresh process. */
async function child(spec: IoChildSpec): Promise<IoChildResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./_io_child.ts", import.meta.url).pathname,
      JSON.stringify(spec),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  if (!out.success) throw new Error(text.decode(out.stderr));
  const lines = text.decode(out.stdout).trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

/**
 * `repeats` child runs of each spec, taken in turns (spec 1, spec 2, ...,
 * then again) so that a change in the machine's load touches every spec
 * alike; for each, the best run by the time of fit 0.
 */
async function bestChildren(
  specs: IoChildSpec[],
  repeats: number,
): Promise<{ r: IoChildResult; spread: number; all: IoChildResult[] }[]> {
  const all: IoChildResult[][] = specs.map(() => []);
  for (let i = 0; i < repeats; i++) {
    for (const [j, spec] of specs.entries()) all[j].push(await child(spec));
  }
  return all.map((runs) => ({ ...bestBy(runs, 0), all: runs }));
}

/** The run with the shortest fit `k`, and the spread of that fit's times. */
function bestBy(
  runs: IoChildResult[],
  k: number,
): { r: IoChildResult; spread: number } {
  const times = runs.map((r) => r.fits[k].timeMs);
  const lo = Math.min(...times);
  return { r: runs[times.indexOf(lo)], spread: Math.max(...times) / lo - 1 };
}

function relDiff(a: number[], b: number[]): number {
  let d = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]) / Math.abs(b[i]));
  }
  return d;
}

async function readTable(
  dir: string,
  n: number,
  nText: number,
  repeats: number,
): Promise<IoReadRow[]> {
  const d = makeData(CASE, n);
  const t = nText === n ? d : makeData(CASE, nText);
  const files = [
    { format: "NPY (n, 2)", file: "d.npy", options: {}, how: "load", n },
    {
      format: "raw f64 rows",
      file: "d.f64",
      options: { columns: 2 },
      how: "fromfile",
      n,
    },
    {
      format: "CSV",
      file: "t.csv",
      options: { x: "x", y: "y" },
      how: "loadtxt,",
      n: nText,
    },
    {
      format: "TSV",
      file: "t.tsv",
      options: { x: "x", y: "y" },
      how: "loadtxt\t",
      n: nText,
    },
    {
      format: "HDF5 (n, 2), chunked",
      file: "d.h5",
      options: { dataset: "table", x: 0, y: 1 },
      how: "-",
      n,
    },
  ];
  await h5wasm.ready;
  await writeNpy(join(dir, "d.npy"), d.x, d.y);
  await writeRows(join(dir, "d.f64"), d.x, d.y);
  await writeText(join(dir, "t.csv"), t.x, t.y, ",");
  await writeText(join(dir, "t.tsv"), t.x, t.y, "\t");
  writeHdf5(join(dir, "d.h5"), d.x, d.y);
  const numpy = numpyTimes(
    files.map((f) => ({ path: join(dir, f.file), how: f.how })),
    repeats,
  );
  const rows: IoReadRow[] = [];
  for (const [i, f] of files.entries()) {
    const path = join(dir, f.file);
    const mb = (await Deno.stat(path)).size / 1e6;
    await readBytes(path); // into the page cache
    const floor = await best(repeats, () => readBytes(path));
    const ours = await best(repeats, () => readSource(path, f.options));
    const src = await openSource(path, f.options);
    const how = src.description;
    await src.close();
    rows.push({
      section: "io",
      format: f.format,
      rows: f.n,
      mb,
      floorMBs: mb / floor.ms * 1e3,
      oursMBs: mb / (ours.ms - ours.extra) * 1e3,
      passMBs: mb / ours.extra * 1e3,
      numpyMBs: numpy[i] === null ? null : mb / numpy[i]!,
      numpyReader: f.how === "-" ? "-" : `np.${f.how.replace(/[,\t]$/, "")}`,
      spread: ours.spread,
      how: how.replace(/^[^(]*\(/, "(").slice(0, 60),
    });
    console.error(`io: ${f.format} done`);
  }
  return rows;
}

/** Figures of one child run as a row. */
function fitRow(
  n: number,
  fit: string,
  r: IoChildResult,
  spread: number,
  k: number,
  ref: { timeMs: number; cpuMs: number; popt: number[] } | null,
): IoFitRow {
  const f = r.fits[k];
  return {
    section: "io_fit",
    n,
    fit,
    timeMs: f.timeMs,
    spread,
    vsMemory: ref === null ? null : f.timeMs / ref.timeMs,
    cpuMs: f.cpuMs,
    cpuVsMemory: ref === null ? null : f.cpuMs / ref.cpuMs,
    openMs: r.openMs,
    passes: f.passes,
    peakRssMb: r.peakRssMb,
    maxRelDiffVsMemory: ref === null ? null : relDiff(f.popt, ref.popt),
    backend: f.backend,
  };
}

/** In-memory fits against streamed ones, all of the same NPY data. */
async function fitTable(
  dir: string,
  n: number,
  repeats: number,
): Promise<IoFitRow[]> {
  const d = makeData(CASE, n);
  const npy = join(dir, `f${n}.npy`);
  await writeNpy(npy, d.x, d.y);
  try {
    const runs: [string, IoChildSpec, number][] = [
      ["in memory, first fit of the process", { mode: "memory", path: npy }, 0],
      ["in memory, repeated fit", { mode: "memory", path: npy }, 1],
      [
        "in memory (shared arrays), first fit",
        { mode: "memory", path: npy, shared: true },
        0,
      ],
      [
        "in memory, backend cpu, first fit",
        { mode: "memory", path: npy, options: { backend: "cpu" } },
        0,
      ],
      ["streamed from NPY", { mode: "stream", path: npy }, 0],
      [
        "streamed from NPY, memoryLimitGb 0.5",
        { mode: "stream", path: npy, options: { memoryLimitGb: 0.5 } },
        0,
      ],
    ];
    // The first two rows are two fits of one process.
    const specs = [runs[0], ...runs.slice(2)];
    const best = await bestChildren(specs.map((s) => s[1]), repeats);
    const mem = best[0];
    const repeated = bestBy(mem.all, 1);
    const ref = mem.r.fits[0];
    const rows = [
      fitRow(n, runs[0][0], mem.r, mem.spread, 0, ref),
      fitRow(n, runs[1][0], repeated.r, repeated.spread, 1, ref),
    ];
    specs.slice(1).forEach(([name], i) => {
      const b = best[i + 1];
      rows.push(fitRow(n, name, b.r, b.spread, 0, ref));
    });
    console.error(`io: fits at ${n} done`);
    return rows;
  } finally {
    await Deno.remove(npy);
  }
}

/** A streamed fit of a CSV file against the same fit from NPY. */
async function csvTable(
  dir: string,
  n: number,
  repeats: number,
): Promise<IoFitRow[]> {
  const d = makeData(CASE, n);
  const csv = join(dir, `f${n}.csv`);
  const npy = join(dir, `f${n}.npy`);
  await writeText(csv, d.x, d.y, ",");
  await writeNpy(npy, d.x, d.y);
  try {
    const [fromNpy, fromCsv] = await bestChildren([
      { mode: "stream", path: npy },
      { mode: "stream", path: csv },
    ], repeats);
    const ref = fromNpy.r.fits[0];
    return [
      fitRow(n, "streamed from NPY", fromNpy.r, fromNpy.spread, 0, ref),
      fitRow(
        n,
        "streamed from CSV (vs NPY; the open parses, apart)",
        fromCsv.r,
        fromCsv.spread,
        0,
        ref,
      ),
    ];
  } finally {
    await Deno.remove(csv);
    await Deno.remove(npy);
  }
}

/** Runs the io section: `io` (formats) and `io_fit` (fits) rows. */
export async function runIoBench(
  opts: { quick?: boolean; large?: boolean; fitsOnly?: boolean } = {},
): Promise<{ io: IoReadRow[]; io_fit: IoFitRow[] }> {
  const dir = await Deno.makeTempDir({ prefix: "nlsq_io_bench_" });
  try {
    const n = opts.quick ? 1_000_000 : 10_000_000;
    const repeats = 3;
    const nText = opts.quick ? 200_000 : 2_000_000;
    // fitsOnly: the NPY fits alone (no format reads, no CSV fit).
    const io = opts.fitsOnly ? [] : await readTable(dir, n, nText, repeats);
    const fits = await fitTable(dir, n, repeats);
    if (!opts.fitsOnly) fits.push(...await csvTable(dir, nText, repeats));
    if (opts.large) fits.push(...await fitTable(dir, 100_000_000, 2));
    return { io, io_fit: fits };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const r = await runIoBench({
    quick: Deno.args.includes("--quick"),
    large: Deno.args.includes("--large"),
    fitsOnly: Deno.args.includes("--fits-only"),
  });
  console.table(r.io);
  console.table(r.io_fit);
}
