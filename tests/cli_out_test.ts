// `nlsq fit --out results.json|.csv`: the JSON restores with
// FitResult.fromJSON and predicts as the library's own fit; the CSV is the
// library's toCSV; a bad name or an unwritable path is bad input (exit 2,
// after the report).
import assert from "node:assert";
import { join } from "node:path";
import { fit, FitResult, model } from "../mod.ts";
import { openSource } from "../data/open_source.ts";
import { DATA, runCli } from "./_cli.ts";

const PATH = join(DATA, "decay.csv");
const ARGS = [
  "fit",
  "--model",
  "a*exp(-b*t)+c",
  "--data",
  PATH,
  "--x",
  "t",
  "--y",
  "signal",
  "--sigma",
  "sigma",
  "--p0",
  "a=1,b=1,c=0",
  "--tie",
  "c=a/10",
];

async function libraryFit() {
  const src = await openSource(PATH, { x: "t", y: "signal", sigma: "sigma" });
  try {
    return await fit(model("a*exp(-b*t)+c", { variables: ["t"] }), src, {
      p0: [1, 1, 0],
      params: { c: { expr: "a/10" } },
    });
  } finally {
    await src.close();
  }
}

Deno.test("fit --out results.json restores with FitResult.fromJSON; --out results.csv is toCSV", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ref = await libraryFit();
    const json = join(dir, "results.json");
    const run = await runCli([...ARGS, "--out", json]);
    assert.strictEqual(run.code, 0, run.stderr);
    assert.match(run.stdout, /\[\[Variables\]\]/);
    assert.match(run.stderr, /result written to .*results\.json/);
    const back = FitResult.fromJSON(JSON.parse(await Deno.readTextFile(json)));
    assert.deepStrictEqual(back.paramNames, ["a", "b", "c"]);
    assert.strictEqual(back.paramSettings[2].expr, "a/10");
    assert.strictEqual(back.modelLabel, "a*exp(-b*t)+c");
    assert.match(back.dataSummary!.description, /decay\.csv/);
    assert.strictEqual(back.weighted, true);
    const xn = [0.5, 3, 12];
    const o = { interval: "confidence", level: 0.95 } as const;
    assert.deepStrictEqual(back.predict(xn, o), ref.predict(xn, o));

    const csv = join(dir, "results.csv");
    const run2 = await runCli([...ARGS, "--alpha", "0.32", "--out", csv]);
    assert.strictEqual(run2.code, 0, run2.stderr);
    assert.strictEqual(
      await Deno.readTextFile(csv),
      ref.toCSV({ level: 0.68 }),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fit --out: a name that is not .json or .csv fails before the fit; an unwritable path after the report", async () => {
  const bad = await runCli([...ARGS, "--out", "results.txt"]);
  assert.strictEqual(bad.code, 2);
  assert.strictEqual(bad.stdout, "");
  assert.match(
    bad.stderr,
    /--out: "results\.txt" must end in \.json .* or \.csv/,
  );
  const gone = await runCli([...ARGS, "--out", "/nonexistent/dir/r.json"]);
  assert.strictEqual(gone.code, 2, gone.stderr);
  assert.match(gone.stdout, /\[\[Variables\]\]/);
  assert.match(gone.stderr, /--out: cannot write \/nonexistent\/dir\/r\.json/);
});
