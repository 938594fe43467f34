// RowReader (DataSource.openReader): any row range into the caller's
// buffers, for every format that seeks. Binary files are read into the
// buffers given (no new arrays), rows held in memory come as views, HDF5
// slices as h5wasm's own columns; bad values, bad ranges, closed readers
// and changed files throw typed errors.

import assert from "node:assert";
import { join } from "node:path";
import h5wasm from "h5wasm/node";
import {
  arraySource,
  type ColumnBuffers,
  type DataSource,
  DataSourceError,
  npySource,
  openSource,
} from "../data/mod.ts";
import {
  bytesOf,
  interleave,
  makeColumns,
  toF32,
  writeNpy,
} from "./fixtures/data/helpers.ts";

const N = 5000;

function buffers(n: number, nx = 1, sigma = false): ColumnBuffers {
  const col = () => new Float64Array(new SharedArrayBuffer(n * 8));
  const b: ColumnBuffers = { x: Array.from({ length: nx }, col), y: col() };
  if (sigma) b.sigma = col();
  return b;
}

/** Expected columns: x, y and sigma as the file holds them. */
interface Expected {
  x: Float64Array[];
  y: Float64Array;
  sigma?: Float64Array;
}

/** Reads ranges with one reader and compares them with `want`. */
async function assertReaderMatches(
  src: DataSource,
  want: Expected,
  expectOwnBuffers: boolean,
) {
  const reader = await src.openReader!();
  try {
    const into = buffers(1100, src.nFeatures, src.hasSigma);
    for (const [s, e] of [[0, 1100], [1023, 2049], [4999, 5000], [7, 7]]) {
      const r = await reader.read(s, e, into);
      assert.strictEqual(r.rows, e - s);
      const got = (a: Float64Array) => Array.from(a.subarray(0, r.rows));
      const slice = (a: Float64Array) => Array.from(a.subarray(s, e));
      assert.deepStrictEqual(got(r.y), slice(want.y), `${s}..${e}`);
      r.x.forEach((c, f) => assert.deepStrictEqual(got(c), slice(want.x[f])));
      assert.strictEqual(r.sigma === undefined, want.sigma === undefined);
      if (want.sigma) assert.deepStrictEqual(got(r.sigma!), slice(want.sigma));
      // Files land in the caller's buffers; rows held in memory are views.
      assert.strictEqual(r.y === into.y, expectOwnBuffers);
    }
  } finally {
    reader.close();
  }
}

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "nlsq_reader_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("reader: every seekable format reads any range into the caller's buffers", async () => {
  await withDir(async (dir) => {
    const cols = makeColumns(N, 3);
    cols[2] = cols[2].map((v) => Math.abs(v) + 0.1);
    // NPY, C order (rows split into columns) and Fortran order (columns
    // read straight into the buffers); f32 converted.
    const c = join(dir, "c.npy");
    await writeNpy(c, "<f8", [N, 3], bytesOf(interleave(cols)));
    await assertReaderMatches(
      await openSource(c, { sigma: 2 }),
      { x: [cols[0]], y: cols[1], sigma: cols[2] },
      true,
    );
    const f = join(dir, "f.npy");
    const fortran = new Float64Array(3 * N);
    cols.forEach((col, k) => fortran.set(col, k * N));
    await writeNpy(f, "<f8", [N, 3], bytesOf(fortran), { fortran: true });
    await assertReaderMatches(
      await openSource(f, { x: 2, y: 0 }),
      { x: [cols[2]], y: cols[0] },
      true,
    );
    const f32 = join(dir, "s.npy");
    await writeNpy(
      f32,
      "<f4",
      [N, 3],
      bytesOf(Float32Array.from(interleave(cols))),
    );
    const c32 = toF32(cols);
    await assertReaderMatches(
      await openSource(f32),
      { x: [c32[0]], y: c32[1] },
      true,
    );
    // Big-endian: swapped in place, then split.
    const be = join(dir, "be.npy");
    const swapped = bytesOf(interleave(cols)).slice();
    for (let i = 0; i < swapped.length; i += 8) {
      swapped.subarray(i, i + 8).reverse();
    }
    await writeNpy(be, ">f8", [N, 3], swapped);
    await assertReaderMatches(
      await openSource(be, { x: [0, 2], y: 1 }),
      { x: [cols[0], cols[2]], y: cols[1] },
      true,
    );
    // Raw rows and columns; separate 1-D NPY files.
    const raw = join(dir, "r.f64");
    await Deno.writeFile(raw, bytesOf(interleave(cols)));
    await assertReaderMatches(
      await openSource(raw, { columns: 3, y: 2 }),
      { x: [cols[0]], y: cols[2] },
      true,
    );
    const rawc = join(dir, "rc.f64");
    await Deno.writeFile(rawc, bytesOf(fortran));
    await assertReaderMatches(
      await openSource(rawc, { columns: 3, layout: "columns", sigma: 2 }),
      { x: [cols[0]], y: cols[1], sigma: cols[2] },
      true,
    );
    const files = ["x", "y"].map((n) => join(dir, `${n}.npy`));
    await writeNpy(files[0], "<f8", [N], bytesOf(cols[0]));
    await writeNpy(files[1], "<f8", [N], bytesOf(cols[1]));
    await assertReaderMatches(
      await npySource({ x: files[0], y: files[1] }),
      { x: [cols[0]], y: cols[1] },
      true,
    );
    // CSV: from the binary copy in memory (views), in files, or parsed.
    const csv = join(dir, "t.csv");
    await Deno.writeTextFile(
      csv,
      "a,b,s\n" +
        Array.from(cols[0], (v, i) => `${v},${cols[1][i]},${cols[2][i]}\n`)
          .join(""),
    );
    for (const binaryCopy of ["auto", "file", "none"] as const) {
      await assertReaderMatches(
        await openSource(csv, { x: "a", y: "b", sigma: "s", binaryCopy }),
        { x: [cols[0]], y: cols[1], sigma: cols[2] },
        binaryCopy !== "auto",
      );
    }
    // HDF5: hyperslabs (columns of h5wasm's own, not the caller's).
    await h5wasm.ready;
    const h5 = join(dir, "t.h5");
    const w = new h5wasm.File(h5, "w");
    w.create_dataset({
      name: "table",
      data: interleave(cols),
      shape: [N, 3],
      chunks: [1000, 3],
    });
    w.create_dataset({ name: "t", data: cols[0] });
    w.create_dataset({ name: "v", data: cols[1] });
    w.close();
    await assertReaderMatches(
      await openSource(h5, { dataset: "table", x: 0, y: 1, sigma: 2 }),
      { x: [cols[0]], y: cols[1], sigma: cols[2] },
      false,
    );
    await assertReaderMatches(
      await openSource(h5, { x: "t", y: "v" }),
      { x: [cols[0]], y: cols[1] },
      false,
    );
    // Arrays: views.
    await assertReaderMatches(
      arraySource(cols[0], cols[1], cols[2]),
      { x: [cols[0]], y: cols[1], sigma: cols[2] },
      false,
    );
  });
});

Deno.test("reader: bad values name the row and column, or dropInvalid compacts", async () => {
  await withDir(async (dir) => {
    const cols = makeColumns(N, 2);
    cols[1][1234] = NaN;
    cols[0][3000] = Infinity;
    const path = join(dir, "bad.npy");
    await writeNpy(path, "<f8", [N, 2], bytesOf(interleave(cols)));
    const strict = await (await openSource(path)).openReader!();
    const into = buffers(N);
    await assert.rejects(
      strict.read(1000, 2000, into),
      (e) =>
        e instanceof DataSourceError && e.code === "not-finite" &&
        e.row === 1234 && e.column === 1,
    );
    // Rows without bad values read fine from the same reader.
    assert.strictEqual((await strict.read(0, 1000, into)).rows, 1000);
    strict.close();
    for (
      const src of [
        await openSource(path, { dropInvalid: true }),
        arraySource(cols[0], cols[1], undefined, { dropInvalid: true }),
      ]
    ) {
      const reader = await src.openReader!();
      const r = await reader.read(1000, 3500, into);
      assert.strictEqual(r.rows, 2498);
      const want = Array.from(cols[1].subarray(1000, 3500)).filter((_, i) =>
        i !== 234 && i !== 2000
      );
      assert.deepStrictEqual(Array.from(r.y.subarray(0, r.rows)), want);
      reader.close();
    }
    // The caller's arrays are never changed by compaction.
    assert.ok(Number.isNaN(cols[1][1234]));
  });
});

Deno.test("reader: ranges, buffer sizes, closed readers and changed files", async () => {
  await withDir(async (dir) => {
    const cols = makeColumns(N, 2);
    const path = join(dir, "d.f64");
    await Deno.writeFile(path, bytesOf(interleave(cols)));
    const src = await openSource(path, { columns: 2 });
    const reader = await src.openReader!();
    await assert.rejects(
      reader.read(10, 5, buffers(10)),
      /rows \[10, 5\) are not a range of the 5000 rows/,
    );
    await assert.rejects(reader.read(4990, 5001, buffers(20)), RangeError);
    await assert.rejects(
      reader.read(0, 100, buffers(50)),
      /the buffers must hold 100 rows of 1 x column\(s\), y/,
    );
    await assert.rejects(
      reader.read(0, 10, buffers(10, 2)),
      /1 x column/,
    );
    await Deno.writeFile(path, new Uint8Array(16), { append: true });
    await assert.rejects(
      reader.read(0, 10, buffers(10)),
      (e) => e instanceof DataSourceError && e.code === "changed",
    );
    reader.close();
    reader.close(); // idempotent
    await assert.rejects(
      reader.read(0, 10, buffers(10)),
      (e) => e instanceof DataSourceError && e.code === "closed",
    );
    await src.close();
    await assert.rejects(
      src.openReader!(),
      (e) => e instanceof DataSourceError && e.code === "closed",
    );
  });
});
