// The page's engine without a browser: the worker's session (tables from
// bytes, fits, views), the Deno script it exports (run here, it reproduces
// the fit), the model field, the server (127.0.0.1 only, nothing outside
// web/ and the data folder) and the bundles (no node: imports).

import assert from "node:assert";
import { fit, model, models } from "../mod.ts";
import { readTable, Session } from "../web/_session.ts";
import { modelFromSpec, parseP0 } from "../web/_model_spec.ts";
import { servePage } from "../web/serve.ts";
import { buildWeb, nodeImports } from "../web/build.ts";
import { havePython, pythonCommand } from "./_tools.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const ROOT = new URL("../", import.meta.url);

function decay(n: number) {
  const x = Float64Array.from({ length: n }, (_, i) => i / (n / 10));
  const y = x.map((v, i) =>
    5 * Math.exp(-0.4 * v) + 1 + 0.01 * Math.sin(7 * i)
  );
  const sigma = x.map((_, i) => 0.01 * (1 + (i % 3)));
  return { x, y, sigma };
}

function csvOf(cols: Record<string, ArrayLike<number>>): string {
  const names = Object.keys(cols);
  const n = cols[names[0]].length;
  const lines = [names.join(",")];
  for (let i = 0; i < n; i++) {
    lines.push(names.map((k) => cols[k][i]).join(","));
  }
  return lines.join("\n") + "\n";
}

Deno.test("web session: a fit of the chosen columns equals fit() (sigma, ties, fixed)", async () => {
  const { x, y, sigma } = decay(300);
  const s = new Session();
  const info = s.load(
    "d.csv",
    enc(csvOf({ noise: sigma, time: x, signal: y })),
  );
  assert.deepStrictEqual(info.names, ["noise", "time", "signal"]);
  assert.strictEqual(info.nRows, 300);
  s.select({ x: 1, y: 2, sigma: 0 });
  const params = [
    { name: "a", value: 4 },
    { name: "b", value: 0.3, min: 0, max: 2 },
    { name: "c", value: 1, vary: false },
  ];
  const page = await s.fit({
    model: "a * exp(-b * time) + c",
    params,
    backend: "cpu",
    tol: 1e-14,
  });
  const r = await fit(
    model("a * exp(-b * time) + c", { variables: ["time"] }),
    x,
    y,
    {
      sigma,
      params: {
        a: { value: 4 },
        b: { value: 0.3, min: 0, max: 2 },
        c: { value: 1, vary: false },
      },
      backend: "cpu",
      ftol: 1e-14,
      xtol: 1e-14,
      gtol: 1e-14,
    },
  );
  assert.deepStrictEqual(page.values, Array.from(r.popt));
  assert.deepStrictEqual(page.stderr, Array.from(r.perr));
  assert.deepStrictEqual(page.vary, [true, true, false]);
  assert.strictEqual(page.values[2], 1);
  assert.ok(page.success);
  // The 95% intervals are popt -/+ t * perr.
  const ci = r.confidenceIntervals(0.05);
  assert.deepStrictEqual(page.lower, ci.map((c) => c.lower));
  // Correlations: unit diagonal, symmetric, NaN for the fixed parameter.
  assert.strictEqual(page.correlation[0][0], 1);
  assert.strictEqual(page.correlation[0][1], page.correlation[1][0]);
  assert.ok(Number.isNaN(page.correlation[2][2]));
  // The view: every point (300 < 4000), the fit and its band over the range.
  const v = s.view();
  assert.strictEqual(v.nInRange, 300);
  assert.ok(!v.decimated && v.curve !== undefined && v.residuals !== undefined);
  const at0 = 5 * 0 + r.popt[0] * Math.exp(0) + r.popt[2];
  assert.ok(Math.abs(v.curve!.y[0] - at0) < 1e-12);
  assert.ok(
    v.curve!.lower[0] < v.curve!.y[0] && v.curve!.upper[0] > v.curve!.y[0],
  );
  // CSV export: every row with fit and residual.
  const rows = s.csv().trim().split("\n");
  assert.strictEqual(rows.length, 301);
  assert.strictEqual(rows[0], "x,y,sigma,fit,residual");
});

Deno.test("web session: ties and a composite of built-in models as fit() has them", async () => {
  const x = Float64Array.from({ length: 300 }, (_, i) => i / 25);
  const m = models.gaussian({ prefix: "g1_" }).add(
    models.gaussian({ prefix: "g2_" }),
  );
  const truth = [10, 4, 0.8, 6, 8, 0.8];
  const y = m.evaluate([x], truth).map((v, i) => v + 0.01 * Math.cos(3 * i));
  const s = new Session();
  s.load("p.tsv", enc(csvOf({ x, y }).replaceAll(",", "\t")));
  const params = [
    { name: "g1_amplitude", value: 9 },
    { name: "g1_center", value: 4.2 },
    { name: "g1_sigma", value: 1 },
    { name: "g2_amplitude", value: 5 },
    { name: "g2_center", value: 7.8 },
    { name: "g2_sigma", expr: "g1_sigma" },
  ];
  const page = await s.fit({
    model: "gaussian+gaussian",
    params,
    backend: "cpu",
  });
  const r = await fit(m, x, y, {
    params: {
      g1_amplitude: { value: 9 },
      g1_center: { value: 4.2 },
      g1_sigma: { value: 1 },
      g2_amplitude: { value: 5 },
      g2_center: { value: 7.8 },
      g2_sigma: { expr: "g1_sigma" },
    },
    backend: "cpu",
  });
  assert.deepStrictEqual(page.values, Array.from(r.popt));
  assert.strictEqual(page.values[5], page.values[2]);
  assert.deepStrictEqual(page.vary, [true, true, true, true, true, false]);
  assert.ok(Math.abs(page.values[4] - 8) < 1e-2);
  assert.ok("g1_fwhm" in page.derived);
  assert.match(page.report, /g2_center:/);
});

Deno.test("web session: the exported Deno script reproduces the fit (inline data and a file)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const n of [200, 3000]) {
      const { x, y, sigma } = decay(n);
      const s = new Session();
      const text = csvOf({ t: x, y, s: sigma });
      await Deno.writeTextFile(`${dir}/decay.csv`, text);
      s.load("decay.csv", enc(text));
      s.select({ x: 0, y: 1, sigma: 2 });
      const req = {
        model: "a * exp(-b * t) + c",
        params: [{ name: "a", value: 4 }, { name: "b", value: 0.3 }, {
          name: "c",
          value: 1,
        }],
        backend: "cpu" as const,
        tol: 1e-14,
      };
      const page = await s.fit(req);
      const script = s.script(req);
      assert.strictEqual(script.includes("openSource"), n > 2000);
      // Inside the repository, "@nlsq/nlsq" resolves to this package.
      const file = await Deno.makeTempFile({
        dir: ROOT.pathname,
        prefix: "_web_script_",
        suffix: ".ts",
      });
      try {
        await Deno.writeTextFile(file, script);
        const out = await new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", file],
          cwd: dir,
          stdout: "piped",
          stderr: "piped",
        }).output();
        assert.ok(out.success, new TextDecoder().decode(out.stderr));
        const got = JSON.parse(new TextDecoder().decode(out.stdout));
        assert.strictEqual(got.success, true);
        for (const [i, name] of ["a", "b", "c"].entries()) {
          assert.ok(
            Math.abs(got.params[name] - page.values[i]) <=
              1e-12 * Math.abs(page.values[i]),
            `n=${n} ${name}: script ${got.params[name]}, page ${
              page.values[i]
            }`,
          );
        }
      } finally {
        await Deno.remove(file);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("web session: bad files and columns say what and where", async () => {
  assert.throws(
    () => readTable("bad.csv", enc("x,y\n0,1\n1,2,3\n")),
    /bad\.csv, line 3: the row has 3 fields but the header has 2/,
  );
  assert.throws(
    () => readTable("bad.csv", enc("x,y\n0,1\n1,\n")),
    /bad\.csv, line 3, column "y": empty value/,
  );
  assert.throws(
    () => readTable("bad.csv", enc("x,y\n0,1\n1,inf\n")),
    /line 3, column "y": value inf is not finite/,
  );
  assert.throws(
    () => readTable("e.csv", enc("# nothing\n")),
    /e\.csv: no data/,
  );
  assert.throws(
    () => readTable("t.npy", new Uint8Array([0x93, 0x4e, 0x55])),
    /t\.npy/,
  );
  const s = new Session();
  assert.throws(
    () => s.load("one.csv", enc("y\n1\n2\n")),
    /one\.csv: one column only/,
  );
  s.load("s.csv", enc("x,y,s\n0,1,1\n1,2,0\n"));
  assert.throws(
    () => s.select({ x: 0, y: 1, sigma: 2 }),
    /sigma column "s": row 2 is 0, not > 0/,
  );
  assert.throws(
    () => s.select({ x: 0, y: 5, sigma: -1 }),
    /y column 5 is not one of the 3 columns/,
  );
  await assert.rejects(
    s.fit({ model: "a * exp(-b * x", params: [], backend: "cpu" }),
    /missing '\)' at position 7\n {2}a \* exp\(-b \* x\n {9}\^/,
  );
});

Deno.test({
  name: "web session: NPY tables written by numpy (f8, f4 Fortran, big-endian)",
  ignore: !havePython("numpy"),
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const code = `
import numpy as np
a = np.column_stack([np.linspace(0, 1, 7), np.linspace(0, 1, 7) ** 2])
np.save("${dir}/f8.npy", a)
np.save("${dir}/f4.npy", np.asfortranarray(a.astype("<f4")))
np.save("${dir}/be.npy", a.astype(">f8"))
np.save("${dir}/col.npy", a[:, 1])`;
      const out = await new Deno.Command(pythonCommand(), {
        args: ["-c", code],
      }).output();
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      const want = Array.from({ length: 7 }, (_, i) => (i / 6) ** 2);
      const f8 = readTable("f8.npy", await Deno.readFile(`${dir}/f8.npy`));
      assert.strictEqual(f8.columns.length, 2);
      f8.columns[1].forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-15));
      const be = readTable("be.npy", await Deno.readFile(`${dir}/be.npy`));
      assert.deepStrictEqual(be.columns, f8.columns);
      const f4 = readTable("f4.npy", await Deno.readFile(`${dir}/f4.npy`));
      assert.deepStrictEqual(
        Array.from(f4.columns[1]),
        Array.from(f8.columns[1], Math.fround),
      );
      const col = readTable("col.npy", await Deno.readFile(`${dir}/col.npy`));
      assert.strictEqual(col.columns.length, 1);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("web model field: names, composites with prefixes, expressions, p0", () => {
  assert.deepStrictEqual(modelFromSpec("gaussian").params, [
    "amplitude",
    "center",
    "sigma",
  ]);
  assert.deepStrictEqual(modelFromSpec("polynomial2").params, [
    "c0",
    "c1",
    "c2",
  ]);
  assert.deepStrictEqual(
    modelFromSpec("lorentzian + gaussian + linear").params,
    models.lorentzian({ prefix: "l1_" }).add(models.gaussian({ prefix: "g1_" }))
      .add(models.linear({ prefix: "l2_" })).params,
  );
  // Not every identifier is a model name: "gauss" is a parameter.
  assert.deepStrictEqual(modelFromSpec("gauss + x").params, ["gauss"]);
  assert.deepStrictEqual(modelFromSpec("k * t", "t").params, ["k"]);
  assert.deepStrictEqual(modelFromSpec("k * t").params, ["k", "t"]);
  assert.throws(() => modelFromSpec(" "), /model: empty/);
  assert.deepStrictEqual(parseP0("a=1,b=-2.5e3"), { a: 1, b: -2500 });
  assert.throws(() => parseP0("a=1,b"), /p0: "b" is not name=number/);
});

Deno.test({
  name: "web server: 127.0.0.1 only, web/ and the data folder, nothing else",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    await Deno.writeTextFile(`${dir}/d.csv`, "x,y\n0,1\n");
    const server = servePage(0, dir);
    try {
      assert.strictEqual(server.addr.hostname, "127.0.0.1");
      const base = `http://127.0.0.1:${server.addr.port}`;
      const get = async (path: string, init?: RequestInit) => {
        const r = await fetch(base + path, init);
        return {
          status: r.status,
          type: r.headers.get("content-type"),
          body: await r.text(),
        };
      };
      const index = await get("/");
      assert.strictEqual(index.status, 200);
      assert.match(index.type!, /text\/html/);
      assert.match(index.body, /<output id="status"/);
      assert.strictEqual((await get("/data/d.csv")).body, "x,y\n0,1\n");
      for (
        const path of [
          "/../deno.json",
          "/%2e%2e/deno.json",
          "/data/../../etc/passwd",
          "/data/%2e%2e/x",
          "/.git/config",
          "/nothing.js",
        ]
      ) {
        assert.strictEqual((await get(path)).status, 404, path);
      }
      assert.strictEqual(
        (await get("/", { method: "POST", body: "x" })).status,
        405,
      );
    } finally {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("web bundles: built from the sources, no node: imports", async () => {
  const sizes = await buildWeb();
  assert.deepStrictEqual(Object.keys(sizes), [
    "web/dist/nlsq.js",
    "web/dist/app.js",
    "web/dist/worker.js",
  ]);
  for (const f of Object.keys(sizes)) {
    const code = await Deno.readTextFile(new URL(f, ROOT));
    assert.deepStrictEqual(nodeImports(code), []);
  }
  // The check itself finds them.
  assert.deepStrictEqual(
    nodeImports(
      `import { a } from "node:os";\nconst m = await import("node:fs");`,
    ),
    ["node:os", "node:fs"],
  );
});
