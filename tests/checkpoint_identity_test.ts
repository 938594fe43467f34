// What "the same problem" means on resume: the same model written with other
// spacing or parentheses, and the same data file after a move, resume; a
// genuinely different model (expression or plain function) is refused.

import assert from "node:assert";
import { join } from "node:path";
import { fit, type FitOptions } from "../workflow/fit.ts";
import { model } from "../model/model.ts";
import { openSource } from "../data/mod.ts";
import {
  CheckpointMismatchError,
  listCheckpoints,
  modelFingerprint,
} from "../checkpoint/checkpoint.ts";
import { decayData, writeRawF64 } from "./streaming/data_files.ts";

const P0 = [1, 1, 0];
const TOL = { ftol: 1e-12, xtol: 1e-12, gtol: 1e-12 };

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "nlsq_ckpt_id_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function assertSame(a: ArrayLike<number>, b: ArrayLike<number>) {
  for (let i = 0; i < b.length; i++) {
    const rel = Math.abs(a[i] / b[i] - 1);
    assert.ok(rel <= 1e-10, `parameter ${i}: ${a[i]} vs ${b[i]}`);
  }
}

function resumedFrom(r: { notes: readonly string[] }): number {
  const note = r.notes.find((n) => n.startsWith("resumed from "));
  assert.ok(note, r.notes.join(" | "));
  return Number(/\(iteration (\d+)\)$/.exec(note)![1]);
}

Deno.test("checkpoint identity: model fingerprints follow the parsed expression", async () => {
  const print = (e: string | Parameters<typeof model>[0]) =>
    modelFingerprint(model(e));
  const base = await print("a*exp(-b*x)+c");
  for (
    const same of [
      "a * exp( -b*x ) + c",
      "  a*exp(-b*x)\t+\nc ",
      "(a*exp((-b)*x))+c",
      "a*exp(-(b)*(x))+(c)",
    ]
  ) {
    assert.strictEqual(await print(same), base, same);
  }
  for (
    const other of [
      "a*exp(-b*x)+c*x",
      "a*exp(-b*x)-c",
      "c+a*exp(-b*x)", // same function, other parameter order: other state
      "a*exp(-b*x)+c+0",
      "a*exp(-b*t)+c",
    ]
  ) {
    assert.notStrictEqual(await print(other), base, other);
  }
  // Plain functions: the same function with other spacing matches, another
  // one with the same parameter names does not.
  const f1 = (x: number, a: number, b: number) => a * Math.exp(-b * x);
  // deno-fmt-ignore
  const f1b = (x: number, a: number, b: number) => a*Math.exp( -b*x );
  const f2 = (x: number, a: number, b: number) => a * Math.exp(-b * x) + 1e-6;
  assert.strictEqual(await print(f1), await print(f1b));
  assert.notStrictEqual(await print(f1), await print(f2));
});

Deno.test("checkpoint identity: other spacing resumes, another model is refused", async () => {
  await withDir(async (dir) => {
    const d = decayData(20_000, { seed: 13 });
    const opts = { p0: P0, ...TOL, workflow: "standard" };
    const ref = await fit("a*exp(-b*x)+c", d.x, d.y, opts);
    // Stopped early: the resume has work left to do.
    const cut = await fit("a*exp(-b*x)+c", d.x, d.y, {
      ...opts,
      maxNfev: 3,
      checkpointDir: dir,
    });
    assert.ok(!cut.success && cut.nit < ref.nit, `nit ${cut.nit}/${ref.nit}`);
    const back = { ...opts, checkpointDir: dir, resume: true } as const;
    const r = await fit("a * exp( -b*x ) + c", d.x, d.y, back);
    assert.strictEqual(resumedFrom(r), cut.nit);
    assertSame(r.popt, ref.popt);
    assert.strictEqual(r.nit, ref.nit);
    for (const other of ["a * exp(-b * x) + c * x", "a * exp(-b * x) - c"]) {
      await assert.rejects(
        fit(other, d.x, d.y, back),
        (e) => e instanceof CheckpointMismatchError && e.field === "model",
        other,
      );
    }
  });
});

Deno.test("checkpoint identity: plain-function models resume only their own checkpoints", async () => {
  await withDir(async (dir) => {
    const d = decayData(5000, { seed: 17 });
    const opts = { p0: P0, ...TOL, workflow: "standard" };
    const f = (x: number, a: number, b: number, c: number) =>
      a * Math.exp(-b * x) + c;
    await fit(f, d.x, d.y, { ...opts, maxNfev: 8, checkpointDir: dir });
    const back = { ...opts, checkpointDir: dir, resume: true };
    // deno-fmt-ignore
    const same = (x: number, a: number, b: number, c: number) => a*Math.exp(-b*x) + c;
    const r = await fit(same, d.x, d.y, back);
    assert.ok(resumedFrom(r) >= 1);
    const other = (x: number, a: number, b: number, c: number) =>
      a * Math.exp(-b * x) + c * x;
    await assert.rejects(
      fit(other, d.x, d.y, back),
      (e) => e instanceof CheckpointMismatchError && e.field === "model",
    );
  });
});

Deno.test("checkpoint identity: a data file moved elsewhere resumes; changed data does not", async () => {
  await withDir(async (dir) => {
    const d = decayData(200_000, { seed: 19 });
    const before = join(dir, "run1", "data.f64");
    const after = join(dir, "archive", "renamed.f64");
    await Deno.mkdir(join(dir, "run1"));
    await Deno.mkdir(join(dir, "archive"));
    await writeRawF64(before, [d.x, d.y]);
    const ck = join(dir, "ck");
    const stream = {
      p0: P0,
      ...TOL,
      workflow: {
        strategy: "streaming",
        config: { batchSize: 25_000, warmStart: false },
      },
    };
    const fileFit = async (path: string, options: FitOptions) => {
      const src = await openSource(path, { columns: 2 });
      try {
        return await fit("a * exp(-b * x) + c", src, { ...stream, ...options });
      } finally {
        await src.close();
      }
    };
    const ref = await fileFit(before, {});
    const cut = await fileFit(before, { checkpointDir: ck, maxNfev: 3 });
    assert.ok(!cut.success && cut.nit < ref.nit, `nit ${cut.nit}/${ref.nit}`);
    assert.ok((await listCheckpoints(ck)).length > 0);

    await Deno.rename(before, after);
    const r = await fileFit(after, { checkpointDir: ck, resume: true });
    assert.strictEqual(resumedFrom(r), cut.nit);
    assertSame(r.popt, ref.popt);
    assert.strictEqual(r.nit, ref.nit);

    // Same place, same size, other content: refused.
    const y2 = d.y.slice();
    y2[y2.length - 1] += 1;
    await writeRawF64(after, [d.x, y2]);
    await assert.rejects(
      fileFit(after, { checkpointDir: ck, resume: true }),
      (e) => e instanceof CheckpointMismatchError && e.field === "data",
    );
  });
});
