// The shipped example data is what examples/make_data.ts writes, and the
// demo runs and prints its reports.

import assert from "node:assert";
import { join } from "node:path";
import { makeExampleData } from "../examples/make_data.ts";
import { openSource } from "../data/open_source.ts";
import { DATA, ROOT } from "./_cli.ts";

Deno.test("examples/data matches a fresh run of make_data.ts", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const written = await makeExampleData(dir);
    assert.strictEqual(written.length, 6);
    for (
      const name of [
        "misra1a.csv",
        "decay.csv",
        "decay.tsv",
        "decay.npy",
        "gauss2d.csv",
      ]
    ) {
      assert.deepStrictEqual(
        await Deno.readFile(join(dir, name)),
        await Deno.readFile(join(DATA, name)),
        name,
      );
    }
    // HDF5 files carry timestamps: compare the data instead of the bytes.
    for (const ref of ["t", "signal", "sigma"]) {
      const read = async (path: string) => {
        const src = await openSource(path, { x: "t", y: ref });
        try {
          return Array.from((await src.readAll!()).y);
        } finally {
          await src.close();
        }
      };
      assert.deepStrictEqual(
        await read(join(dir, "decay.h5")),
        await read(join(DATA, "decay.h5")),
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the decay files hold the same numbers in every format", async () => {
  const all = async (file: string, opts: Parameters<typeof openSource>[1]) => {
    const src = await openSource(join(DATA, file), opts);
    try {
      const b = await src.readAll!();
      return [Array.from(b.x[0]), Array.from(b.y), Array.from(b.sigma!)];
    } finally {
      await src.close();
    }
  };
  const csv = await all("decay.csv", { x: "t", y: "signal", sigma: "sigma" });
  assert.strictEqual(csv[0].length, 200);
  assert.deepStrictEqual(
    await all("decay.tsv", { x: "t", y: "signal", sigma: "sigma" }),
    csv,
  );
  assert.deepStrictEqual(await all("decay.npy", { x: 0, y: 1, sigma: 2 }), csv);
  assert.deepStrictEqual(
    await all("decay.h5", { x: "t", y: "signal", sigma: "sigma" }),
    csv,
  );
  assert.deepStrictEqual(
    await all("decay.h5", { dataset: "table", x: 0, y: 1, sigma: 2 }),
    csv,
  );
});

Deno.test("deno task demo: Misra1a and 1M points, with reports, in seconds", async () => {
  const t0 = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, "examples", "demo.ts")],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - t0) / 1000;
  const text = new TextDecoder().decode(out.stdout);
  assert.strictEqual(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.match(text, /=== NIST StRD Misra1a/);
  assert.match(text, /b1: +238\.9421\d/);
  assert.match(text, /relative error \d\.\de-(9|1\d), \d\.\de-(9|1\d)/);
  assert.match(text, /=== 1,000,000 synthetic points/);
  assert.match(text, /# data points += 1000000/);
  assert.match(text, /^ {4}b: +1\.29\d+ \+\/- /m);
  assert.ok(seconds < 20, `demo took ${seconds.toFixed(1)} s`);
});
