// The numeric CSV parser: every number equals Number() of its text (also
// halfway between two doubles, where a shortcut would round wrongly), chunk
// boundaries and long lines do not change a value, a file it cannot take
// goes to csv-parse, and the binary copy made at open is what later passes
// read (in memory, or in temporary files that are unlinked at once).

import assert from "node:assert";
import { join } from "node:path";
import { parseDecimal } from "../data/_csv_number.ts";
import { type DataSource, openCsv, openSource } from "../data/mod.ts";
import { fit } from "../workflow/fit.ts";
import { model } from "../model/model.ts";
import { collect } from "./fixtures/data/helpers.ts";

const enc = new TextEncoder();
const OUT = new Float64Array(1);

function parsed(text: string): { value: number; end: number } {
  const b = enc.encode(text);
  const end = parseDecimal(b, 0, b.length, OUT, 0);
  return { value: OUT[0], end };
}

function assertParsesLikeNumber(text: string) {
  const { value, end } = parsed(text);
  assert.strictEqual(end, text.length, text);
  assert.ok(
    Object.is(value, Number(text)),
    `${text}: ${value} vs ${Number(text)}`,
  );
}

/** The exact decimal expansion of a finite double, as digits and exponent. */
function exactDecimal(v: number): { digits: string; exp: number } {
  const b = new DataView(new ArrayBuffer(8));
  b.setFloat64(0, v);
  const bits = b.getBigUint64(0);
  const e = Number((bits >> 52n) & 0x7ffn);
  let m = bits & ((1n << 52n) - 1n);
  if (e > 0) m |= 1n << 52n;
  const p = (e === 0 ? 1 : e) - 1075; // v = m * 2^p
  if (p >= 0) return { digits: (m << BigInt(p)).toString(), exp: 0 };
  // m * 2^p = m * 5^-p / 10^-p
  return { digits: (m * 5n ** BigInt(-p)).toString(), exp: p };
}

Deno.test("parseDecimal: the same double as Number(), halfway cases included", () => {
  let s = 7;
  const rnd = () => (s = (s * 16807) % 2147483647) / 2147483647;
  for (let k = 0; k < 20000; k++) {
    const v = (rnd() - 0.5) * 10 ** Math.floor(rnd() * 50 - 25);
    for (
      const text of [
        String(v),
        v.toExponential(18),
        v.toPrecision(17),
        v.toPrecision(16),
        v.toFixed(8),
        v.toPrecision(1 + Math.floor(rnd() * 19)),
      ]
    ) assertParsesLikeNumber(text);
  }
  // Points halfway between neighbouring doubles, and just off them, with 17
  // to 19 significant digits: the double-double path must not round them
  // by itself, Number() decides.
  for (let k = 0; k < 5000; k++) {
    const v = (1 + rnd()) * 10 ** Math.floor(rnd() * 30 - 15);
    const bits = new DataView(new ArrayBuffer(8));
    bits.setFloat64(0, v);
    bits.setBigUint64(0, bits.getBigUint64(0) + 1n);
    const next = bits.getFloat64(0); // the neighbour above
    const { digits: a, exp } = exactDecimal(v);
    const { digits: b } = exactDecimal(next);
    // (a + b) / 2 with the exponent of v (next has the same one here).
    if (exactDecimal(next).exp !== exp) continue;
    const mid = ((BigInt(a) + BigInt(b)) * 5n).toString(); // * 10 / 2
    for (const len of [17, 18, 19]) {
      for (const bump of [0n, 1n, -1n]) {
        const head = (BigInt(mid.slice(0, len)) + bump).toString();
        const e10 = exp - 1 + mid.length - head.length;
        assertParsesLikeNumber(`${head}e${e10}`);
        assertParsesLikeNumber(
          `${head[0]}.${head.slice(1)}e${e10 + head.length - 1}`,
        );
      }
    }
  }
  for (
    const text of [
      "0",
      "-0",
      "+0",
      "1.",
      ".5",
      "-.5",
      "+.25e+2",
      "1E5",
      "0.000000000000000000000000000001",
      "123456789012345678901234567890",
      "9007199254740993",
      "2.2250738585072014e-308",
      "4.9e-324",
      "1.7976931348623157e308",
      "1e400",
      "-1e400",
      "1e-400",
      "1e23",
      "0.30000000000000004",
      "00012.5000",
    ]
  ) assertParsesLikeNumber(text);
  for (const text of ["", "-", "+", ".", "e5", ".e5", "1e", "1e+", "abc"]) {
    assert.strictEqual(parsed(text).end, -1, text);
  }
  // It stops at the first byte that cannot continue the number.
  assert.deepStrictEqual(parsed("2.5x"), { value: 2.5, end: 3 });
  assert.deepStrictEqual(parsed("7,8"), { value: 7, end: 1 });
});

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "nlsq_csvparse_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Rows of mixed formats, a note column, and every `longEvery` row a note
 * longer than the parser's carry room; CRLF line ends. */
function mixedText(n: number, longEvery: number): {
  text: string;
  x: number[];
  y: number[];
} {
  const x: number[] = [], y: number[] = [];
  const lines = ["note,x,y"];
  let s = 3;
  const rnd = () => (s = (s * 16807) % 2147483647) / 2147483647;
  const forms = [
    (v: number) => String(v),
    (v: number) => v.toExponential(18),
    (v: number) => ` ${v.toFixed(6)} `,
    (v: number) => v.toPrecision(3),
  ];
  for (let i = 0; i < n; i++) {
    const xt = forms[i % 4]((rnd() - 0.5) * 1e3);
    const yt = forms[(i + 1) % 4](rnd() * 10 ** (rnd() * 10 - 5));
    const note = i % longEvery === 17 ? "z".repeat(70_000) : `n${i}`;
    lines.push(`${note},${xt},${yt}`);
    x.push(Number(xt));
    y.push(Number(yt));
  }
  return { text: lines.join("\r\n") + "\r\n", x, y };
}

Deno.test("csv parser: chunk boundaries, long lines, CRLF: every value as Number() reads it", async () => {
  await withDir(async (dir) => {
    // About 6 MB: several 1 MB chunks, long notes across their edges.
    const { text, x, y } = mixedText(60_000, 997);
    const path = join(dir, "mixed.csv");
    await Deno.writeTextFile(path, text);
    for (const binaryCopy of ["auto", "none"] as const) {
      const src = await openSource(path, { x: "x", y: "y", binaryCopy });
      assert.match(src.description, /numeric parser/);
      const got = await collect(src, 7777);
      assert.deepStrictEqual(got.x[0], x);
      assert.deepStrictEqual(got.y, y);
      // Ranges that start between index entries, parsed again (none).
      const part = await collect(src, 500, { start: 31_000, end: 32_500 });
      assert.deepStrictEqual(part.y, y.slice(31_000, 32_500));
      await src.close();
    }
  });
});

Deno.test("csv parser: a quote anywhere sends the whole file to csv-parse", async () => {
  await withDir(async (dir) => {
    const { text, y } = mixedText(30_000, 1e9);
    const path = join(dir, "late_quote.csv");
    // A quoted note with the delimiter in it, past the first chunks.
    const lines = text.split("\r\n");
    lines[25_000] = lines[25_000].replace(/^[^,]*/, '"a, quoted note"');
    await Deno.writeTextFile(path, lines.join("\r\n"));
    const src = await openSource(path, { x: "x", y: "y" });
    assert.match(src.description, /; csv-parse, binary copy in memory\)/);
    assert.deepStrictEqual((await collect(src, 4096)).y, y);
  });
});

Deno.test("csv parser: passes read the binary copy made at open, not the text", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "d.csv");
    const n = 3000;
    const xs = Array.from({ length: n }, (_, i) => i / 300);
    const ys = xs.map((t) =>
      3 * Math.exp(-0.7 * t) + 0.5 + 0.01 * Math.sin(7 * t)
    );
    const body = xs.map((t, i) => `${t.toFixed(6)},${ys[i].toFixed(9)}`);
    await Deno.writeTextFile(path, "x,y\n" + body.join("\n") + "\n");
    const m = model("a * exp(-b * x) + c");
    const opts = {
      p0: [1, 1, 0],
      workflow: { strategy: "streaming", config: { batchSize: 700 } },
    };
    const fitOf = async (src: DataSource) => {
      try {
        return await fit(m, src, opts);
      } finally {
        await src.close();
      }
    };
    const ref = await fitOf(await openSource(path));
    const copy = await openSource(path);
    const text = await openSource(path, { binaryCopy: "none" });
    // Other digits of the same length, and the old modification time: a
    // file the change check cannot tell apart. What parses the text again
    // sees the new values; the copy keeps the ones parsed at open.
    const info = await Deno.stat(path);
    await Deno.writeTextFile(
      path,
      "x,y\n" + body.map((l) => l.replace(/\d$/, "0")).join("\n") + "\n",
    );
    await Deno.utime(path, info.atime!, info.mtime!);
    const fromCopy = await fitOf(copy);
    const fromText = await fitOf(text);
    assert.deepStrictEqual(Array.from(fromCopy.popt), Array.from(ref.popt));
    assert.notDeepStrictEqual(Array.from(fromText.popt), Array.from(ref.popt));
  });
});

Deno.test("csv parser: a copy in temporary files leaves none behind; no write permission, no files", async () => {
  await withDir(async (dir) => {
    const tmp = join(dir, "tmp");
    await Deno.mkdir(tmp);
    const path = join(dir, "d.csv");
    await Deno.writeTextFile(
      path,
      "x,y\n" +
        Array.from({ length: 5000 }, (_, i) => `${i},${i / 2}`).join("\n"),
    );
    const script = `
      import { openSource } from ${
      JSON.stringify(new URL("../data/mod.ts", import.meta.url).href)
    };
      const mode = Deno.args[1];
      let out;
      try {
        const src = await openSource(Deno.args[0], { binaryCopy: mode });
        let sum = 0;
        for await (const b of src.batches(777)) for (const v of b.y) sum += v;
        const left = [...Deno.readDirSync(Deno.env.get("TMPDIR"))].length;
        out = { sum, left, description: src.description };
        await src.close();
      } catch (e) {
        out = { error: String(e) };
      }
      console.log(JSON.stringify(out));
    `;
    const child = join(dir, "child.ts");
    await Deno.writeTextFile(child, script);
    const run = async (mode: string, allow: string[]) => {
      const res = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          `--config=${new URL("../deno.json", import.meta.url).pathname}`,
          ...allow,
          child,
          path,
          mode,
        ],
        env: { TMPDIR: tmp },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder();
      assert.ok(res.success, text.decode(res.stderr));
      return JSON.parse(text.decode(res.stdout));
    };
    const all = [
      `--allow-read`,
      `--allow-write=${tmp}`,
      "--allow-env=TMPDIR",
      "--allow-sys",
    ];
    const sum = (5000 * 4999) / 4;
    const inFiles = await run("file", all);
    assert.deepStrictEqual(inFiles, {
      sum,
      left: 0, // unlinked as soon as made, read through the open handle
      description:
        "d.csv (csv, 5000 rows, x=x, y=y; numeric parser, binary copy in temporary files)",
    });
    // Without write permission (and no prompt): "file" is an error naming
    // the directory, "auto" keeps the copy in memory.
    const noWrite = ["--allow-read", "--allow-env=TMPDIR", "--no-prompt"];
    const refused = await run("file", noWrite);
    assert.match(
      refused.error,
      /binaryCopy "file" needs read and write permission/,
    );
    const auto = await run("auto", noWrite);
    assert.strictEqual(auto.sum, sum);
    assert.match(auto.description, /binary copy in memory/);
  });
});

Deno.test("csv parser: no header, TSV, other delimiters, openCsv", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "bare.txt");
    await Deno.writeTextFile(path, "1|2.5|x\n3|-4e-3|y\n");
    const src = await openCsv(path, { header: false, delimiter: "|", y: 1 });
    assert.match(src.description, /numeric parser/);
    assert.deepStrictEqual((await collect(src, 10)).y, [2.5, -0.004]);
    // A delimiter that can be part of a number, or several characters:
    // csv-parse.
    await Deno.writeTextFile(path, "a::b\n1::2\n");
    const multi = await openCsv(path, { delimiter: "::" });
    assert.match(multi.description, /csv-parse/);
    assert.deepStrictEqual((await collect(multi, 10)).y, [2]);
  });
});
