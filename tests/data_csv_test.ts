import assert from "node:assert";
import { join } from "node:path";
import { DataSourceError, openCsv, openSource } from "../data/mod.ts";
import {
  assertReproduces,
  collect,
  makeColumns,
} from "./fixtures/data/helpers.ts";

// More rows than two index strides (1024), so ranges start between entries.
const N = 3000;

function csvText(
  names: string[],
  cols: Float64Array[],
  delimiter = ",",
  eol = "\n",
): string {
  const lines = [names.join(delimiter)];
  for (let i = 0; i < cols[0].length; i++) {
    // String(v) is the shortest text that parses back to v exactly.
    lines.push(cols.map((c) => String(c[i])).join(delimiter));
  }
  return lines.join(eol) + eol;
}

async function expectError(
  promise: Promise<unknown>,
  fields: { code: string; line?: number; column?: string | number },
  message: RegExp,
): Promise<DataSourceError> {
  const err = await promise.then(
    () => assert.fail("expected an error"),
    (e) => e,
  );
  assert.ok(err instanceof DataSourceError, String(err));
  assert.strictEqual(err.code, fields.code, err.message);
  if ("line" in fields) assert.strictEqual(err.line, fields.line, err.message);
  if ("column" in fields) {
    assert.strictEqual(err.column, fields.column, err.message);
  }
  assert.match(err.message, message);
  return err;
}

Deno.test("csv: batches reproduce the data for many sizes and ranges", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cols = makeColumns(N, 4);
    cols[3] = cols[3].map((v) => Math.abs(v) + 0.1);
    const path = join(dir, "data.csv");
    await Deno.writeTextFile(path, csvText(["t", "u", "signal", "err"], cols));
    // The same rows from the copy in memory, in temporary files, and from
    // the text parsed again on every pass.
    for (
      const [binaryCopy, where] of [
        ["auto", "binary copy in memory"],
        ["file", "binary copy in temporary files"],
        ["none", "no binary copy"],
      ] as const
    ) {
      const src = await openSource(path, {
        x: ["t", 1],
        y: "signal",
        sigma: "err",
        binaryCopy,
      });
      assert.strictEqual(src.length, N);
      assert.strictEqual(
        src.description,
        `data.csv (csv, 3000 rows, x=t+u, y=signal, sigma=err; numeric parser, ${where})`,
      );
      await assertReproduces(src, {
        x: [cols[0], cols[1]],
        y: cols[2],
        sigma: cols[3],
      }, [
        [1023, 1025],
        [1024, 2048],
        [2047, 2999],
        [2999, 3000],
      ]);
      await src.close();
    }
    // Defaults: x = column 0, y = column 1.
    const plain = await openSource(path);
    const got = await collect(plain, 500, { start: 2500 });
    assert.deepStrictEqual(got.y, Array.from(cols[1].subarray(2500)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("csv: TSV, CRLF, BOM, quotes, empty lines, spaces, no header", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cols = makeColumns(1500, 2);
    const tsv = join(dir, "data.tsv");
    await Deno.writeTextFile(
      tsv,
      "\uFEFF" + csvText(["x", "y"], cols, "\t", "\r\n"),
    );
    const a = await openSource(tsv, { x: "x", y: "y" });
    await assertReproduces(a, { x: [cols[0]], y: cols[1] }, [[1100, 1400]]);

    const odd = join(dir, "odd.csv");
    await Deno.writeTextFile(
      odd,
      'name,"x value",y\n"a, b", 1.5 ,2\n\n"multi\nline",3,4e-2\n c ,.5,-6.\n',
    );
    const b = await openSource(odd, { x: "x value", y: "y" });
    const got = await collect(b, 2);
    assert.deepStrictEqual(got.x[0], [1.5, 3, 0.5]);
    assert.deepStrictEqual(got.y, [2, 0.04, -6]);

    const bare = join(dir, "bare.csv");
    await Deno.writeTextFile(bare, "1,2,3\n4,5,6\n");
    const c = await openCsv(bare, { header: false, x: 2, y: 0 });
    const all = await c.readAll!();
    assert.deepStrictEqual(Array.from(all.x[0]), [3, 6]);
    assert.deepStrictEqual(Array.from(all.y), [1, 4]);
    await assert.rejects(openCsv(bare, { header: false, x: "a" }), TypeError);

    const semi = join(dir, "semi.txt");
    await Deno.writeTextFile(semi, "a;b\n1;2\n");
    const d = await openSource(semi, { format: "csv", delimiter: ";" });
    assert.deepStrictEqual(Array.from((await d.readAll!()).y), [2]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("csv: bad rows name file, line and column; dropInvalid drops them", async (t) => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "bad.csv");
  try {
    await t.step("missing field", async () => {
      await Deno.writeTextFile(path, "x,y,s\n1,2,3\n4,5,6\n7\n8,9,10\n");
      await expectError(
        openSource(path, { x: "x", y: "y" }),
        { code: "missing", line: 4, column: "y" },
        /bad\.csv, line 4, column "y": missing value \(the row has 1 field\)/,
      );
      const src = await openSource(path, { x: "x", y: "y", dropInvalid: true });
      assert.strictEqual(src.length, 4);
      const got = await collect(src, 3);
      assert.deepStrictEqual(got.x[0], [1, 4, 8]);
      assert.deepStrictEqual(got.sizes, [2, 1]);
      assert.deepStrictEqual(got.starts, [0, 3]);
    });
    await t.step("empty field", async () => {
      await Deno.writeTextFile(path, "x,y\n1,2\n3,\n");
      await expectError(
        openSource(path),
        { code: "missing", line: 3, column: "y" },
        /line 3, column "y": empty value/,
      );
    });
    await t.step("non-numeric field", async () => {
      await Deno.writeTextFile(path, "x,y\n1,2\n3,4\n5,abc\n0x10,7\n");
      const err = await expectError(
        openSource(path),
        { code: "not-a-number", line: 4, column: "y" },
        /line 4, column "y": "abc" is not a number/,
      );
      assert.strictEqual(err.path, path);
      assert.ok(err.message.startsWith(path));
      const src = await openSource(path, { dropInvalid: true });
      const all = await src.readAll!();
      assert.deepStrictEqual(Array.from(all.x[0]), [1, 3]); // 0x10 is not decimal
    });
    await t.step("NaN and Infinity", async () => {
      await Deno.writeTextFile(path, "x,y\n1,2\nnan,4\n5,-Infinity\n7,1e400\n");
      await expectError(
        openSource(path),
        { code: "not-finite", line: 3, column: "x" },
        /line 3, column "x": value nan is not finite/,
      );
      const src = await openSource(path, { dropInvalid: true });
      assert.deepStrictEqual(Array.from((await src.readAll!()).y), [2]);
    });
    await t.step("sigma must be positive", async () => {
      await Deno.writeTextFile(path, "x,y,s\n1,2,0.5\n3,4,0\n");
      await expectError(
        openSource(path, { sigma: "s" }),
        { code: "not-finite", line: 3, column: "s" },
        /sigma must be positive, got 0/,
      );
    });
    await t.step("line numbers count multi-line quoted fields", async () => {
      await Deno.writeTextFile(path, 'note,x,y\n"a\nb",1,2\nc,3,?\n');
      await expectError(
        openSource(path, { x: "x", y: "y" }),
        { code: "not-a-number", line: 4, column: "y" },
        /line 4/,
      );
    });
    await t.step(
      "a bad row deep in the file is reported at its line",
      async () => {
        // Row 2500 follows the header and 2500 rows: line 2502.
        const cols = makeColumns(3000, 2);
        const lines = csvText(["x", "y"], cols).split("\n");
        lines[2501] = lines[2501].replace(/,.*/, ",oops");
        await Deno.writeTextFile(path, lines.join("\n"));
        await expectError(
          openSource(path),
          { code: "not-a-number", line: 2502, column: "y" },
          /line 2502, column "y": "oops"/,
        );
        const src = await openSource(path, { dropInvalid: true });
        const got = await collect(src, 1000, { start: 2400, end: 2600 });
        assert.strictEqual(got.y.length, 199);
      },
    );
    await t.step("unknown column lists the available ones", async () => {
      await Deno.writeTextFile(path, "time,counts,err\n1,2,3\n");
      await expectError(
        openSource(path, { x: "t", y: "counts" }),
        { code: "column", column: "t" },
        /unknown column "t"; available columns: "time", "counts", "err"/,
      );
      await expectError(
        openSource(path, { y: 7 }),
        { code: "column", column: 7 },
        /column index 7 is out of range; the header has 3 columns/,
      );
    });
    await t.step("more fields than the header (a decimal comma)", async () => {
      await Deno.writeTextFile(path, "x,y\n0.5,2\n1.0,1,234\n2,3\n");
      await expectError(
        openSource(path),
        { code: "format", line: 3 },
        /bad\.csv, line 3: the row has 3 fields but the header has 2 \("x", "y"\); quote fields that contain the delimiter ","/,
      );
      const src = await openSource(path, { dropInvalid: true });
      const all = await src.readAll!();
      assert.deepStrictEqual(Array.from(all.x[0]), [0.5, 2]);
      assert.deepStrictEqual(Array.from(all.y), [2, 3]);
    });
    await t.step("fewer fields than the header", async () => {
      // The selected columns are all there; the row is still malformed.
      await Deno.writeTextFile(path, "x,y,note\n1,2,a\n3,4\n");
      const err = await expectError(
        openSource(path),
        { code: "format", line: 3 },
        /line 3: the row has 2 fields but the header has 3 \("x", "y", "note"\)$/,
      );
      assert.strictEqual(err.column, undefined);
      // Without a header, the first row sets the count.
      await Deno.writeTextFile(path, "1,2\n3,4\n5,6,7\n");
      await expectError(
        openCsv(path, { header: false }),
        { code: "format", line: 3 },
        /line 3: the row has 3 fields but the first row has 2/,
      );
    });
    await t.step(
      "a count mismatch deep in the file, on a later pass",
      async () => {
        const cols = makeColumns(3000, 2);
        const lines = csvText(["x", "y"], cols).split("\n");
        lines[2501] += ",9";
        await Deno.writeTextFile(path, lines.join("\n"));
        await expectError(
          openSource(path),
          { code: "format", line: 2502 },
          /the row has 3 fields/,
        );
        const src = await openSource(path, { dropInvalid: true });
        const got = await collect(src, 1000, { start: 2400, end: 2600 });
        assert.strictEqual(got.y.length, 199);
      },
    );
    await t.step("two header columns of one name", async () => {
      await Deno.writeTextFile(path, "t,y,t\n1,2,3\n");
      await expectError(
        openSource(path, { x: 0, y: 1 }),
        { code: "column", line: 1, column: "t" },
        /bad\.csv, line 1, column "t": the header names two columns "t" \(columns 0 and 2\)/,
      );
      // Unnamed columns are not ambiguous.
      await Deno.writeTextFile(path, "x,y,,\n1,2,,\n");
      const src = await openSource(path);
      assert.deepStrictEqual(Array.from((await src.readAll!()).y), [2]);
    });
    await t.step("a huge field makes a short message", async () => {
      const huge = "z".repeat(1 << 20);
      const short = (e: DataSourceError) => {
        assert.ok(e.message.length < 300, `${e.message.length} characters`);
        assert.match(e.message, /"z{40}"\.\.\. \((1048576|65536) characters\)/);
      };
      await Deno.writeTextFile(path, `x,y\n1,2\n3,"${huge}"\n`);
      short(
        await expectError(
          openSource(path),
          { code: "not-a-number", line: 3, column: "y" },
          /is not a number/,
        ),
      );
      await Deno.writeTextFile(path, `x,y\n1,${huge}\n`);
      short(
        await expectError(
          openSource(path),
          { code: "not-a-number", line: 2 },
          /not a number/,
        ),
      );
      // (csv-parse scans a first line slowly: a shorter huge header name.)
      await Deno.writeTextFile(path, `x,${huge.slice(0, 1 << 16)}\n1,2\n`);
      short(
        await expectError(
          openSource(path, { y: "v" }),
          { code: "column" },
          /unknown/,
        ),
      );
      short(
        await expectError(
          openSource(path, { y: 1, x: 5 }),
          { code: "column" },
          /range/,
        ),
      );
      await Deno.writeTextFile(path, `x,y\n1,2\n1,1e${"9".repeat(1 << 20)}\n`);
      const e = await expectError(
        openSource(path),
        { code: "not-finite", line: 3 },
        /finite/,
      );
      assert.ok(e.message.length < 300, `${e.message.length} characters`);
    });
    await t.step("unclosed quote", async () => {
      await Deno.writeTextFile(path, 'x,y\n1,2\n3,"4\n');
      await expectError(openSource(path), { code: "format" }, /malformed CSV/);
    });
    await t.step("empty file", async () => {
      await Deno.writeTextFile(path, "");
      await expectError(openSource(path), { code: "format" }, /empty/);
      await Deno.writeTextFile(path, "x,y\n");
      const src = await openSource(path);
      assert.strictEqual(src.length, 0);
      assert.deepStrictEqual((await collect(src, 10)).y, []);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("csv: a file that changes between batches or passes throws", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "live.csv");
    const cols = makeColumns(3000, 2);
    await Deno.writeTextFile(path, csvText(["x", "y"], cols));
    const src = await openSource(path);
    const it = src.batches(1000)[Symbol.asyncIterator]();
    assert.strictEqual((await it.next()).value!.y[0], cols[1][0]);
    await Deno.writeTextFile(path, "5,6\n", { append: true });
    await expectError(
      it.next(),
      { code: "changed" },
      /changed size while being read/,
    );
    await expectError(collect(src, 1000), { code: "changed" }, /changed size/);
    // Shrink between passes.
    await Deno.writeTextFile(path, csvText(["x", "y"], cols));
    const again = await openSource(path);
    await collect(again, 1000);
    await Deno.truncate(path, 1000);
    await expectError(
      collect(again, 1000),
      { code: "changed" },
      / -> 1000 bytes/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
