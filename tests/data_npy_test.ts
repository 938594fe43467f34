import assert from "node:assert";
import { join } from "node:path";
import {
  DataSourceError,
  npySource,
  openNpy,
  openSource,
} from "../data/mod.ts";
import {
  assertReproduces,
  bytesOf,
  collect,
  hasNumpy,
  interleave,
  makeColumns,
  python,
  toF32,
  writeNpy,
} from "./fixtures/data/helpers.ts";

const N = 5000;
const NUMPY = await hasNumpy();

// numpy writes the reference files from our raw bytes, so the expected values
// are exactly the ones we generated.
async function numpySave(
  dir: string,
  name: string,
  columns: Float64Array[],
  expr: string,
): Promise<string> {
  const raw = join(dir, `${name}.f64`);
  await Deno.writeFile(raw, bytesOf(interleave(columns)));
  const out = join(dir, `${name}.npy`);
  await python(
    `import numpy as np\na = np.fromfile(${
      JSON.stringify(raw)
    }, dtype='<f8').reshape(-1, ${columns.length})\nnp.save(${
      JSON.stringify(out)
    }, ${expr})`,
  );
  return out;
}

Deno.test("npy: 2-D f64 table from numpy, batches reproduce the data", {
  ignore: !NUMPY,
}, async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cols = makeColumns(N, 4);
    const path = await numpySave(dir, "table", cols, "a");
    const src = await openSource(path, { x: [0, 2], y: 1, sigma: 3 });
    assert.strictEqual(src.nFeatures, 2);
    assert.strictEqual(src.hasSigma, true);
    assert.match(src.description, /table\.npy \(npy f64 5000 x 4, 5000 rows/);
    // sigma must be positive: use |col 3| + 1 via a second file below; here
    // column 3 can be negative, so only check x/y with dropInvalid off.
    const noSigma = await openSource(path, { x: [0, 2], y: 1 });
    await assertReproduces(noSigma, { x: [cols[0], cols[2]], y: cols[1] }, [
      [1, 4999],
    ]);
    await src.close();
    await noSigma.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("npy: f32 table, Fortran order and big-endian are read exactly", {
  ignore: !NUMPY,
}, async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cols = makeColumns(N, 3);
    cols[2] = cols[2].map((v) => Math.abs(v) + 0.5);
    const f32 = toF32(cols);
    const cases: [string, string, Float64Array[]][] = [
      ["f32", "a.astype('<f4')", f32],
      ["fortran", "np.asfortranarray(a)", cols],
      ["fortran32", "np.asfortranarray(a.astype('<f4'))", f32],
      ["big", "a.astype('>f8')", cols],
      ["big32", "a.astype('>f4')", f32],
    ];
    for (const [name, expr, expected] of cases) {
      const path = await numpySave(dir, name, cols, expr);
      const src = await openSource(path, { x: 0, y: 1, sigma: 2 });
      await assertReproduces(src, {
        x: [expected[0]],
        y: expected[1],
        sigma: expected[2],
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("npy: separate 1-D files, by npySource and by openSource", {
  ignore: !NUMPY,
}, async () => {
  const dir = await Deno.makeTempDir();
  try {
    const [x, y, s] = makeColumns(N, 3);
    const sigma = s.map((v) => Math.abs(v) + 1);
    const paths: string[] = [];
    for (
      const [name, col, dtype] of [["x", x, "<f8"], ["y", y, "<f8"], [
        "s",
        sigma,
        "<f4",
      ]] as const
    ) {
      const raw = join(dir, `${name}.f64`);
      await Deno.writeFile(raw, bytesOf(col));
      paths.push(join(dir, `${name}.npy`));
      await python(
        `import numpy as np\nnp.save(${
          JSON.stringify(paths.at(-1))
        }, np.fromfile(${
          JSON.stringify(raw)
        }, dtype='<f8').astype('${dtype}'))`,
      );
    }
    const expected = { x: [x], y, sigma: toF32([sigma])[0] };
    const a = await npySource({ x: paths[0], y: paths[1], sigma: paths[2] });
    await assertReproduces(a, expected);
    const b = await openSource(paths[1], { x: paths[0], sigma: paths[2] });
    await assertReproduces(b, expected);
    assert.notStrictEqual(a.fingerprint, "");
    assert.strictEqual(a.fingerprint, b.fingerprint);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("npy: header versions 2.0 and 3.0 (own writer)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cols = makeColumns(100, 2);
    for (const version of [1, 2, 3] as const) {
      const path = join(dir, `v${version}.npy`);
      await writeNpy(path, "<f8", [100, 2], bytesOf(interleave(cols)), {
        version,
      });
      const src = await openNpy(path);
      await assertReproduces(src, { x: [cols[0]], y: cols[1] });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("npy: bad files throw typed errors naming the file", async (t) => {
  const dir = await Deno.makeTempDir();
  const data = bytesOf(interleave(makeColumns(10, 2)));
  const expectError = async (
    path: string,
    code: string,
    message: RegExp,
    options = {},
  ) => {
    const err = await openSource(path, options).then(
      () => assert.fail("expected an error"),
      (e) => e,
    );
    assert.ok(err instanceof DataSourceError, String(err));
    assert.strictEqual(err.code, code, err.message);
    assert.strictEqual(err.path, path);
    assert.match(err.message, message);
    assert.ok(err.message.startsWith(path), err.message);
  };
  try {
    await t.step("truncated: names expected and actual bytes", async () => {
      const path = join(dir, "trunc.npy");
      await writeNpy(path, "<f8", [10, 2], data.subarray(0, 150));
      await expectError(
        path,
        "truncated",
        /which needs 288 bytes, but the file has 278/,
      );
    });
    await t.step("longer than the header says", async () => {
      const path = join(dir, "long.npy");
      await writeNpy(path, "<f8", [9, 2], data);
      await expectError(path, "truncated", /longer than declared/);
    });
    await t.step("unsupported dtypes", async () => {
      for (const descr of ["<i4", "<f2", "|u1", "<c16"]) {
        const path = join(dir, "int.npy");
        await writeNpy(path, descr, [10, 2], data);
        await expectError(
          path,
          "dtype",
          new RegExp(`unsupported NPY dtype '\\${descr[0]}${descr.slice(1)}'`),
        );
      }
    });
    await t.step("structured dtype", async () => {
      const path = join(dir, "rec.npy");
      const dict = new TextEncoder().encode(
        "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (0,), }\n",
      );
      const bytes = new Uint8Array(10 + dict.length);
      bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, dict.length, 0]);
      bytes.set(dict, 10);
      await Deno.writeFile(path, bytes);
      await expectError(path, "dtype", /structured NPY dtypes/);
    });
    await t.step("3-D arrays", async () => {
      const path = join(dir, "cube.npy");
      await writeNpy(path, "<f8", [5, 2, 2], data.subarray(0, 160));
      await expectError(path, "layout", /shape \(5, 2, 2\) are not supported/);
    });
    await t.step("not NPY at all", async () => {
      const path = join(dir, "fake.npy");
      await Deno.writeTextFile(path, "x,y\n1,2\n3,4\n");
      await expectError(path, "format", /missing the \\x93NUMPY magic/);
    });
    await t.step("unknown version", async () => {
      const path = join(dir, "v9.npy");
      await writeNpy(path, "<f8", [10, 2], data);
      const bytes = await Deno.readFile(path);
      bytes[6] = 9;
      await Deno.writeFile(path, bytes);
      await expectError(path, "format", /unsupported NPY version 9\.0/);
    });
    await t.step("column out of range", async () => {
      const path = join(dir, "ok.npy");
      await writeNpy(path, "<f8", [10, 2], data);
      await expectError(
        path,
        "column",
        /selects column 5, but the table has 2 columns/,
        {
          y: 5,
        },
      );
      await assert.rejects(openSource(path, { x: "t" }), TypeError);
    });
    await t.step("1-D file without x paths", async () => {
      const path = join(dir, "col.npy");
      await writeNpy(path, "<f8", [20], data);
      await assert.rejects(
        openSource(path),
        /col\.npy holds a single column \(shape \(20,\)\): give x as the path/,
      );
    });
    await t.step("an (n, 1) array is a column, and says so", async () => {
      const path = join(dir, "tall.npy");
      const x = join(dir, "x20.npy");
      const values = Float64Array.from({ length: 40 }, (_, i) => i * 0.5 - 3);
      await writeNpy(path, "<f8", [20, 1], bytesOf(values.subarray(0, 20)));
      await writeNpy(x, "<f8", [20], bytesOf(values.subarray(20)));
      await assert.rejects(
        openSource(path),
        /tall\.npy holds a single column \(shape \(20, 1\)\)/,
      );
      await assert.rejects(
        openNpy(path, { x, y: 0 }),
        /shape \(20, 1\)\), which is y itself/,
      );
      const src = await openNpy(path, { x });
      assert.strictEqual(
        src.description,
        "x20.npy + tall.npy (npy columns, 20 rows)",
      );
      const got = await collect(src, 7);
      assert.deepStrictEqual(got.y, Array.from(values.subarray(0, 20)));
      assert.deepStrictEqual(got.x[0], Array.from(values.subarray(20)));
      const table = join(dir, "table.npy");
      await writeNpy(table, "<f8", [10, 2], data);
      const err = await npySource({ x, y: table }).catch((e) => e);
      assert.ok(err instanceof DataSourceError, String(err));
      assert.strictEqual(err.code, "layout");
      assert.match(
        err.message,
        /table\.npy: expected a single column, of shape \(n,\) or \(n, 1\), got shape \(10, 2\)/,
      );
    });
    await t.step("1-D files of different lengths", async () => {
      const a = join(dir, "a.npy");
      const b = join(dir, "b.npy");
      await writeNpy(a, "<f8", [20], data);
      await writeNpy(b, "<f8", [10], data.subarray(0, 80));
      const err = await npySource({ x: a, y: b }).catch((e) => e);
      assert.ok(err instanceof DataSourceError);
      assert.match(err.message, /has 10 rows but .*a\.npy has 20/);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("npy: a file that changes between batches throws 'changed'", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "grow.npy");
    const cols = makeColumns(1000, 2);
    await writeNpy(path, "<f8", [1000, 2], bytesOf(interleave(cols)));
    const src = await openNpy(path);
    const it = src.batches(100)[Symbol.asyncIterator]();
    const first = await it.next();
    assert.deepStrictEqual(
      Array.from(first.value!.y),
      Array.from(cols[1].subarray(0, 100)),
    );
    // Append (grow), then read on.
    const f = await Deno.open(path, { append: true });
    await f.write(new Uint8Array(16));
    f.close();
    const err = await it.next().catch((e) => e);
    assert.ok(err instanceof DataSourceError, String(err));
    assert.strictEqual(err.code, "changed");
    assert.match(
      err.message,
      /changed size while being read \(16128 -> 16144 bytes\)/,
    );
    // A new pass on the stale source fails the same way.
    await assert.rejects(collect(src, 100), /changed size/);

    // Shrink between passes.
    await writeNpy(path, "<f8", [1000, 2], bytesOf(interleave(cols)));
    const again = await openNpy(path);
    await collect(again, 300);
    await Deno.truncate(path, 5000);
    await assert.rejects(
      collect(again, 300),
      (e: unknown) =>
        e instanceof DataSourceError && e.code === "changed" &&
        /16128 -> 5000/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("npy: NaN rows throw with row and column, or are dropped", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cols = makeColumns(50, 2);
    cols[1][17] = NaN;
    cols[0][30] = Infinity;
    const path = join(dir, "nan.npy");
    await writeNpy(path, "<f8", [50, 2], bytesOf(interleave(cols)));
    const strict = await openNpy(path);
    const err = await collect(strict, 8).catch((e) => e);
    assert.ok(err instanceof DataSourceError);
    assert.strictEqual(err.row, 17);
    assert.strictEqual(err.column, 1);
    assert.match(err.message, /row 17, column 1: value NaN is not finite/);
    const lenient = await openNpy(path, { dropInvalid: true });
    const got = await collect(lenient, 8);
    assert.strictEqual(got.y.length, 48);
    const keep = (a: Float64Array) =>
      Array.from(a).filter((_, i) => i !== 17 && i !== 30);
    assert.deepStrictEqual(got.y, keep(cols[1]));
    assert.deepStrictEqual(got.x[0], keep(cols[0]));
    // Batch starts stay on the row grid even when rows are dropped.
    assert.deepStrictEqual(got.starts, [0, 8, 16, 24, 32, 40, 48]);
    assert.deepStrictEqual(got.sizes, [8, 8, 7, 7, 8, 8, 2]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("npy: argument errors, abort signal and close", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "t.npy");
    await writeNpy(
      path,
      "<f8",
      [10, 2],
      bytesOf(interleave(makeColumns(10, 2))),
    );
    const src = await openNpy(path);
    await assert.rejects(collect(src, 0), RangeError);
    await assert.rejects(collect(src, 2, { start: 5, end: 3 }), RangeError);
    await assert.rejects(collect(src, 2, { end: 11 }), /exceeds the length/);
    const controller = new AbortController();
    let seen = 0;
    const err = await (async () => {
      for await (const _ of src.batches(2, { signal: controller.signal })) {
        seen++;
        controller.abort(new Error("stop"));
      }
    })().catch((e) => e);
    assert.strictEqual(seen, 1);
    assert.strictEqual(err.message, "stop");
    await src.close();
    await assert.rejects(
      collect(src, 2),
      (e: unknown) => e instanceof DataSourceError && e.code === "closed",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
