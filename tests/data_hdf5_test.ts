import assert from "node:assert";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import h5wasm from "h5wasm/node";
import { DataSourceError, openHdf5, openSource } from "../data/mod.ts";
import {
  assertReproduces,
  collect,
  interleave,
  makeColumns,
  toF32,
} from "./fixtures/data/helpers.ts";

const N = 4000;
await h5wasm.ready;

Deno.test("hdf5: 1-D datasets (f64, f32, int, chunked+gzip) reproduce the data", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cols = makeColumns(N, 3);
    const sigma = cols[2].map((v) => Math.abs(v) + 0.5);
    const ints = Int32Array.from({ length: N }, (_, i) => i * 3 - 5000);
    const path = join(dir, "data.h5");
    const f = new h5wasm.File(path, "w");
    f.create_dataset({ name: "x", data: cols[0] });
    f.create_dataset({ name: "y", data: cols[1] });
    const g = f.create_group("meas");
    g.create_dataset({ name: "sigma32", data: Float32Array.from(sigma) });
    g.create_dataset({ name: "count", data: ints });
    g.create_dataset({
      name: "packed",
      data: cols[1],
      chunks: [256],
      compression: "gzip",
    });
    f.create_dataset({
      name: "big",
      data: BigInt64Array.from({ length: N }, (_, i) => BigInt(i)),
    });
    f.close();

    const src = await openSource(path, {
      x: ["/x", "meas/count"],
      y: "/y",
      sigma: "/meas/sigma32",
    });
    assert.match(src.description, /data\.h5 \(hdf5, 4000 rows/);
    await assertReproduces(src, {
      x: [cols[0], Float64Array.from(ints)],
      y: cols[1],
      sigma: toF32([sigma])[0],
    });
    // Defaults: datasets "x" and "y".
    const plain = await openHdf5(path);
    await assertReproduces(plain, { x: [cols[0]], y: cols[1] }, [[1500, 2700]]);
    const packed = await openHdf5(path, { x: "big", y: "/meas/packed" });
    await assertReproduces(packed, {
      x: [Float64Array.from({ length: N }, (_, i) => i)],
      y: cols[1],
    });
    for (const s of [src, plain, packed]) await s.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hdf5: columns of a 2-D dataset, narrow and wide", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cols = makeColumns(N, 3);
    cols[2] = cols[2].map((v) => Math.abs(v) + 0.5);
    const wide = makeColumns(N, 12);
    const path = join(dir, "table.h5");
    const f = new h5wasm.File(path, "w");
    f.create_dataset({ name: "table", data: interleave(cols), shape: [N, 3] });
    f.create_dataset({
      name: "wide",
      data: interleave(wide),
      shape: [N, 12],
      chunks: [500, 12],
    });
    f.close();
    const src = await openSource(path, {
      dataset: "/table",
      x: 0,
      y: 1,
      sigma: 2,
    });
    await assertReproduces(src, { x: [cols[0]], y: cols[1], sigma: cols[2] });
    // Two of twelve columns: read column by column.
    const w = await openSource(path, { dataset: "wide", x: [11, 3], y: 7 });
    await assertReproduces(w, { x: [wide[11], wide[3]], y: wide[7] });
    await src.close();
    await w.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hdf5: bad inputs throw typed errors", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "bad.h5");
    const f = new h5wasm.File(path, "w");
    f.create_dataset({ name: "x", data: new Float64Array(10) });
    f.create_dataset({ name: "y", data: new Float64Array(11) });
    f.create_dataset({ name: "words", data: ["a", "b"] });
    f.create_dataset({
      name: "cube",
      data: new Float64Array(8),
      shape: [2, 2, 2],
    });
    f.create_dataset({
      name: "nan",
      data: new Float64Array([1, 2, NaN, 4, 5, 6, 7, 8, 9, 10]),
    });
    f.create_group("grp").create_dataset({
      name: "z",
      data: new Float64Array(10),
    });
    f.close();
    const check = async (options: object, code: string, message: RegExp) => {
      const err = await openSource(path, options).catch((e) => e);
      assert.ok(err instanceof DataSourceError, String(err));
      assert.strictEqual(err.code, code, err.message);
      assert.strictEqual(err.path, path);
      assert.match(err.message, message);
    };
    await check(
      { x: "x", y: "nope" },
      "column",
      /no dataset "nope"; datasets in the file: \/cube, \/grp\/z, \/nan, \/words, \/x, \/y/,
    );
    await check({ x: "x", y: "grp" }, "column", /not a dataset: "grp"/);
    await check(
      { x: "x", y: "y" },
      "layout",
      /dataset y has 11 rows but x has 10/,
    );
    await check({ x: "x", y: "words" }, "dtype", /dataset words has type/);
    await check({ x: "x", y: "cube" }, "layout", /shape \(2, 2, 2\)/);
    await check({ dataset: "x" }, "layout", /expected a 2-D dataset/);
    await assert.rejects(openSource(path, { x: 0, y: "y" }), TypeError);

    const nan = await openSource(path, { x: "x", y: "nan" });
    const err = await collect(nan, 4).catch((e) => e);
    assert.ok(err instanceof DataSourceError);
    assert.strictEqual(err.row, 2);
    assert.strictEqual(err.column, "nan");
    await nan.close();
    const dropped = await openSource(path, {
      x: "x",
      y: "nan",
      dropInvalid: true,
    });
    assert.deepStrictEqual((await collect(dropped, 4)).y, [
      1,
      2,
      4,
      5,
      6,
      7,
      8,
      9,
      10,
    ]);
    await dropped.close();

    const fake = join(dir, "fake.h5");
    await Deno.writeTextFile(fake, "x,y\n1,2\n".repeat(200));
    const e2 = await openSource(fake).catch((e) => e);
    assert.ok(e2 instanceof DataSourceError);
    assert.match(e2.message, /not an HDF5 file/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hdf5: a file that changes between batches throws", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "live.h5");
    const f = new h5wasm.File(path, "w");
    f.create_dataset({ name: "x", data: new Float64Array(1000) });
    f.create_dataset({ name: "y", data: new Float64Array(1000) });
    f.close();
    const src = await openHdf5(path);
    const it = src.batches(100)[Symbol.asyncIterator]();
    await it.next();
    const file = await Deno.open(path, { append: true });
    await file.write(new Uint8Array(100));
    file.close();
    const err = await it.next().catch((e) => e);
    assert.ok(err instanceof DataSourceError);
    assert.strictEqual(err.code, "changed");
    await src.close();
    await assert.rejects(collect(src, 10), /closed/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hdf5: damaged files give a DataSourceError naming the file, and nothing on stderr", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const good = join(dir, "good.h5");
    const f = new h5wasm.File(good, "w");
    const n = 20000;
    f.create_dataset({ name: "x", data: new Float64Array(n).map((_, i) => i) });
    f.create_dataset({
      name: "y",
      data: new Float64Array(n).map((_, i) => Math.sin(i)),
      chunks: [1000],
      compression: "gzip",
    });
    f.close();
    const bytes = await Deno.readFile(good);
    // A reproducible stream of "random" bytes.
    let state = 12345;
    const noise = (size: number) =>
      Uint8Array.from({ length: size }, () => {
        state = (state * 1103515245 + 12345) % 2 ** 31;
        return state >>> 16;
      });
    const headerThenNoise = noise(bytes.length);
    headerThenNoise.set(bytes.subarray(0, 48)); // signature and superblock
    const badHeader = bytes.slice();
    // The first object header ("OHDR", the root group's): its checksum fails.
    const ohdr = bytes.findIndex((_, i) =>
      String.fromCharCode(...bytes.subarray(i, i + 4)) === "OHDR"
    );
    assert.ok(ohdr > 0);
    badHeader[ohdr + 8] ^= 0xff;
    const badChunk = bytes.slice();
    for (let i = bytes.length - 3000; i < bytes.length - 2000; i++) {
      badChunk[i] ^= 0x5a;
    }
    const cases: [string, Uint8Array, string, RegExp][] = [
      ["truncated.h5", bytes.slice(0, 1000), "truncated", /truncated/],
      ["random.h5", noise(4096), "format", /not an HDF5 file/],
      ["garbage.h5", headerThenNoise, "format", /damaged/],
      ["header.h5", badHeader, "format", /damaged.*checksum/],
      ["chunk.h5", badChunk, "format", /rows .* of y.*damaged/],
    ];
    const paths: string[] = [];
    for (const [name, data] of cases) {
      paths.push(join(dir, name));
      await Deno.writeFile(paths.at(-1)!, data);
    }
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        fileURLToPath(
          new URL("./fixtures/data/open_report.ts", import.meta.url),
        ),
        good,
        ...paths,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.strictEqual(stderr, "", "nothing on stderr");
    assert.ok(out.success);
    const reports = new TextDecoder().decode(out.stdout).trim().split("\n")
      .map((line) => JSON.parse(line));
    assert.deepStrictEqual(reports[0], { path: good, rows: n });
    cases.forEach(([name, , code, message], i) => {
      const r = reports[i + 1];
      assert.strictEqual(r.error, "DataSourceError", `${name}: ${r.message}`);
      assert.ok(r.isDataSourceError);
      assert.strictEqual(r.code, code, `${name}: ${r.message}`);
      assert.strictEqual(r.errorPath, paths[i]);
      assert.ok(r.message.startsWith(paths[i]), r.message);
      assert.match(r.message, message);
      assert.doesNotMatch(r.message, /HDF5-DIAG|\.c line|internal error/i);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
