import assert from "node:assert";
import { join } from "node:path";
import { DataSourceError, openRaw, openSource } from "../data/mod.ts";
import {
  assertReproduces,
  bytesOf,
  collect,
  interleave,
  makeColumns,
  toF32,
} from "./fixtures/data/helpers.ts";

const N = 4000;

Deno.test("raw: f64 and f32 rows, columns layout, header offset", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cols = makeColumns(N, 3);
    cols[2] = cols[2].map((v) => Math.abs(v) + 0.25);
    const f32 = toF32(cols);

    const f64Path = join(dir, "rows.f64");
    await Deno.writeFile(f64Path, bytesOf(interleave(cols)));
    // Column 1 holds some negative values: as sigma it must fail.
    const a = await openSource(f64Path, { columns: 3, x: 2, y: 0, sigma: 1 });
    await assert.rejects(collect(a, 100), /sigma must be positive/);
    const b = await openSource(f64Path, {
      columns: 3,
      x: [0, 1],
      y: 0,
      sigma: 2,
    });
    await assertReproduces(b, {
      x: [cols[0], cols[1]],
      y: cols[0],
      sigma: cols[2],
    });
    assert.match(b.description, /rows\.f64 \(raw f64 rows, 4000 rows x 3/);

    const f32Path = join(dir, "rows.f32");
    await Deno.writeFile(f32Path, bytesOf(Float32Array.from(interleave(cols))));
    const c = await openSource(f32Path, { columns: 3, sigma: 2 });
    await assertReproduces(c, { x: [f32[0]], y: f32[1], sigma: f32[2] });

    // Column after column, behind a 16-byte header, as .bin with a dtype.
    const binPath = join(dir, "cols.bin");
    const planar = new Float64Array(2 + 3 * N);
    planar.set([123, 456]);
    cols.forEach((col, k) => planar.set(col, 2 + k * N));
    await Deno.writeFile(binPath, bytesOf(planar));
    const d = await openSource(binPath, {
      dtype: "f64",
      columns: 3,
      layout: "columns",
      byteOffset: 16,
      x: 1,
      y: 0,
      sigma: 2,
    });
    await assertReproduces(d, { x: [cols[1]], y: cols[0], sigma: cols[2] });
    assert.notStrictEqual(b.fingerprint, d.fingerprint);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("raw: bad layouts and options", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "odd.f64");
    await Deno.writeFile(path, new Uint8Array(8 * 7)); // 7 values
    const err = await openSource(path, { columns: 2 }).catch((e) => e);
    assert.ok(err instanceof DataSourceError);
    assert.strictEqual(err.code, "layout");
    assert.strictEqual(err.path, path);
    assert.match(
      err.message,
      /size 56 bytes is not a whole number of 16-byte rows \(2 x f64\)/,
    );
    const src = await openSource(path, { columns: 7, x: 3, y: 6 });
    assert.strictEqual(src.length, 1);
    await assert.rejects(openSource(path), /give columns/);
    await assert.rejects(openSource(path, { columns: 0 }), RangeError);
    await assert.rejects(
      openSource(path, { columns: 2, dtype: "f32" }),
      /contradicts/,
    );
    const bin = join(dir, "data.bin");
    await Deno.writeFile(bin, new Uint8Array(32));
    await assert.rejects(openSource(bin, { columns: 2 }), /give dtype/);
    await assert.rejects(
      openSource(bin, { columns: 2, dtype: "f32", x: "t" }),
      TypeError,
    );
    await assert.rejects(
      openSource(bin, { columns: 2, dtype: "f32", y: 2 }),
      /selects column 2, but the table has 2 columns/,
    );
    await assert.rejects(
      openSource(join(dir, "nope.f64"), { columns: 2 }),
      (e: unknown) =>
        e instanceof DataSourceError && /no such file/.test(e.message),
    );
    await assert.rejects(
      openSource(join(dir, "x.dat")),
      /cannot tell the format/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("raw: a file that grows or shrinks between batches throws", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "live.f64");
    const cols = makeColumns(1000, 2);
    await Deno.writeFile(path, bytesOf(interleave(cols)));
    const src = await openRaw(path, { columns: 2 });
    const it = src.batches(250)[Symbol.asyncIterator]();
    assert.strictEqual((await it.next()).value!.y[0], cols[1][0]);
    await Deno.truncate(path, 8000);
    const err = await it.next().catch((e) => e);
    assert.ok(err instanceof DataSourceError);
    assert.strictEqual(err.code, "changed");
    assert.match(err.message, /16000 -> 8000 bytes/);

    // Same size, new content (rewritten in place): the mtime changes.
    await Deno.writeFile(path, bytesOf(interleave(cols)));
    const again = await openRaw(path, { columns: 2 });
    await Deno.utime(path, 1, 1);
    await assert.rejects(collect(again, 100), /modified or replaced/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("raw: fingerprints are stable and follow content and selection", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "fp.f64");
    const cols = makeColumns(500, 2);
    await Deno.writeFile(path, bytesOf(interleave(cols)));
    const a = await openRaw(path, { columns: 2 });
    const b = await openRaw(path, { columns: 2 });
    assert.strictEqual(a.fingerprint, b.fingerprint);
    assert.ok(a.fingerprint.startsWith("raw:"), a.fingerprint);
    assert.ok(!a.fingerprint.includes(path), a.fingerprint); // moves keep it
    const swapped = await openRaw(path, { columns: 2, x: 1, y: 0 });
    assert.notStrictEqual(swapped.fingerprint, a.fingerprint);
    // Same size, same mtime, different last bytes: the tail hash differs.
    const { mtime } = await Deno.stat(path);
    cols[1][499] += 1;
    await Deno.writeFile(path, bytesOf(interleave(cols)));
    await Deno.utime(path, mtime!, mtime!);
    const c = await openRaw(path, { columns: 2 });
    assert.notStrictEqual(c.fingerprint, a.fingerprint);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
