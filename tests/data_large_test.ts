// Memory stays flat while reading large files. Each format is read in full
// by a subprocess (with --allow-read only, so least privilege is checked
// too), once from a ~50 MB file and once from a file k times larger: memory
// retained by the pass (RSS after a GC) must stay well below the data size and
// must not grow with the file. RSS includes the V8 heap and WASM memory that
// never shrink, so the check compares the two files instead of trusting an
// absolute number.

import assert from "node:assert";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import h5wasm from "h5wasm/node";
import { bytesOf, writeNpy } from "./fixtures/data/helpers.ts";
import type { SourceFormat } from "../data/source.ts";

const ROWS = 3_276_800; // 2 columns of f64: 52 MB of data
const BATCH = 16384;
const SCRIPT = fileURLToPath(
  new URL("./fixtures/data/read_pass.ts", import.meta.url),
);

interface PassReport {
  rows: number;
  sum: number;
  peak: number;
  retained: number;
  seconds: number;
}

async function readPass(path: string, options: object): Promise<PassReport> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--v8-flags=--expose-gc",
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

// Row i holds (i, i / 2).
function rowsBlock(from: number, count: number): Float64Array {
  const a = new Float64Array(2 * count);
  for (let k = 0; k < count; k++) {
    a[2 * k] = from + k;
    a[2 * k + 1] = (from + k) / 2;
  }
  return a;
}

/** Writes `rows` rows block by block through `write`. */
async function writeRows(
  path: string,
  rows: number,
  encode: (block: Float64Array) => Uint8Array,
  header?: Uint8Array,
): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true });
  try {
    if (header) await file.write(header);
    const block = 1 << 18;
    for (let at = 0; at < rows; at += block) {
      const bytes = encode(rowsBlock(at, Math.min(block, rows - at)));
      for (let done = 0; done < bytes.length;) {
        done += await file.write(bytes.subarray(done));
      }
    }
  } finally {
    file.close();
  }
}

type Writer = (path: string, rows: number) => Promise<void>;

// Every format (a compile error names one added to SOURCE_FORMATS without a
// writer here); tsv is read by the csv parser.
const writers: Record<Exclude<SourceFormat, "tsv">, [string, object, Writer]> =
  {
    raw: ["f64", { columns: 2 }, (p, n) => writeRows(p, n, bytesOf)],
    npy: ["npy", {}, async (p, n) => {
      await writeNpy(p, "<f8", [n, 2], new Uint8Array(0));
      const header = await Deno.readFile(p);
      await Deno.remove(p);
      await writeRows(p, n, bytesOf, header);
    }],
    hdf5: ["h5", { dataset: "table" }, (p, n) => {
      const w = new h5wasm.File(p, "w");
      try {
        w.create_dataset({
          name: "table",
          data: rowsBlock(0, n),
          shape: [n, 2],
          chunks: [65536, 2],
        });
      } finally {
        w.close();
      }
      return Promise.resolve();
    }],
    csv: ["csv", { x: "x", y: "y" }, (p, n) => {
      const enc = new TextEncoder();
      return writeRows(p, n, (a) => {
        let text = "";
        for (let k = 0; k < a.length; k += 2) text += `${a[k]},${a[k + 1]}\n`;
        return enc.encode(text);
      }, enc.encode("x,y\n"));
    }],
  };

Deno.test("large files: passes keep memory flat for every format", async (t) => {
  await h5wasm.ready;
  const dir = await Deno.makeTempDir();
  try {
    for (const [name, [ext, options, write]] of Object.entries(writers)) {
      // CSV parses at tens of MB/s: twice the size is enough to see a trend.
      const factor = name === "csv" ? 2 : 3;
      await t.step(name, async () => {
        const reports: PassReport[] = [];
        for (const rows of [ROWS, factor * ROWS]) {
          const path = join(dir, `${name}_${rows}.${ext}`);
          await write(path, rows);
          const r = await readPass(path, options);
          assert.strictEqual(r.rows, rows);
          assert.strictEqual(r.sum, rows * (rows - 1) / 4); // sum of i / 2
          const mb = (await Deno.stat(path)).size / 1e6;
          console.log(
            `${name}: ${mb.toFixed(0)} MB, ${
              (mb / r.seconds).toFixed(0)
            } MB/s, retained ${(r.retained / 1e6).toFixed(1)} MB, peak ${
              (r.peak / 1e6).toFixed(1)
            } MB`,
          );
          reports.push(r);
          await Deno.remove(path);
        }
        const data = ROWS * 16;
        // Keeping even a quarter of the rows read would exceed these bounds.
        assert.ok(
          reports[0].retained < 0.75 * data,
          `retained ${reports[0].retained} B reading ${data} B of data`,
        );
        assert.ok(
          reports[1].retained - reports[0].retained < 0.25 * data,
          `retained ${reports[0].retained} B, then ${
            reports[1].retained
          } B for a file ${factor} times larger`,
        );
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
