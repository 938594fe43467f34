// Memory stays flat while reading large files: each format is read in a
// subprocess (with --allow-read only: least privilege is checked too) and its
// resident-memory growth over a full pass must stay far below the file size.

import assert from "node:assert";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import h5wasm from "h5wasm/node";
import { bytesOf, writeNpy } from "./fixtures/data/helpers.ts";

const ROWS = 3_276_800; // 2 columns of f64: 52 MB of data
const BATCH = 16384;
const SCRIPT = fileURLToPath(
  new URL("./fixtures/data/read_pass.ts", import.meta.url),
);

interface PassReport {
  rows: number;
  sum: number;
  growth: number;
  seconds: number;
}

async function readPass(path: string, options: object): Promise<PassReport> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      SCRIPT,
      path,
      JSON.stringify(options),
      String(BATCH),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  assert.ok(out.success, text.decode(out.stderr));
  return JSON.parse(text.decode(out.stdout));
}

// Row i holds (i, i / 2): y sums to exactly ROWS * (ROWS - 1) / 4.
function rowsBlock(from: number, count: number): Float64Array {
  const a = new Float64Array(2 * count);
  for (let k = 0; k < count; k++) {
    a[2 * k] = from + k;
    a[2 * k + 1] = (from + k) / 2;
  }
  return a;
}

const EXPECTED_SUM = ROWS * (ROWS - 1) / 4;

async function check(name: string, path: string, options: object) {
  const size = (await Deno.stat(path)).size;
  const r = await readPass(path, options);
  assert.strictEqual(r.rows, ROWS, name);
  assert.strictEqual(r.sum, EXPECTED_SUM, name);
  const mb = size / 1e6;
  console.log(
    `${name}: ${mb.toFixed(1)} MB in ${r.seconds.toFixed(2)} s (${
      (mb / r.seconds).toFixed(0)
    } MB/s), RSS growth ${(r.growth / 1e6).toFixed(1)} MB`,
  );
  // A source that kept what it read would grow by at least the data size.
  assert.ok(
    r.growth < 0.4 * ROWS * 16,
    `${name}: RSS grew ${r.growth} bytes reading ${size} bytes`,
  );
}

Deno.test("large files: raw, NPY, HDF5 and CSV passes keep memory flat", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    const block = 1 << 18;
    const raw = join(dir, "big.f64");
    const file = await Deno.open(raw, { write: true, create: true });
    for (let at = 0; at < ROWS; at += block) {
      await file.write(bytesOf(rowsBlock(at, Math.min(block, ROWS - at))));
    }
    file.close();
    await t.step("raw", () => check("raw", raw, { columns: 2 }));

    const npy = join(dir, "big.npy");
    await writeNpy(npy, "<f8", [ROWS, 2], await Deno.readFile(raw));
    await t.step("npy", () => check("npy", npy, {}));

    await h5wasm.ready;
    const h5 = join(dir, "big.h5");
    const w = new h5wasm.File(h5, "w");
    w.create_dataset({
      name: "table",
      data: rowsBlock(0, ROWS),
      shape: [ROWS, 2],
      chunks: [65536, 2],
    });
    w.close();
    await t.step("hdf5", () => check("hdf5", h5, { dataset: "table" }));

    const csv = join(dir, "big.csv");
    const out = await Deno.open(csv, { write: true, create: true });
    const enc = new TextEncoder();
    await out.write(enc.encode("x,y\n"));
    for (let at = 0; at < ROWS; at += block) {
      const a = rowsBlock(at, Math.min(block, ROWS - at));
      let text = "";
      for (let k = 0; k < a.length; k += 2) text += `${a[k]},${a[k + 1]}\n`;
      await out.write(enc.encode(text));
    }
    out.close();
    await t.step("csv", () => check("csv", csv, { x: "x", y: "y" }));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
