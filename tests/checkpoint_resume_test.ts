// Checkpoints written by fit(): atomic files with checksums, resume to the
// same answer as an uninterrupted run, damaged files skipped, checkpoints of
// another problem refused, abort and a changing file leave a valid one.

import assert from "node:assert";
import { basename, join } from "node:path";
import { fit, type FitOptions } from "../workflow/fit.ts";
import { model } from "../model/model.ts";
import { DataSourceError, openSource } from "../data/mod.ts";
import {
  CheckpointError,
  CheckpointMismatchError,
  listCheckpoints,
  loadLatestCheckpoint,
  readCheckpoint,
} from "../checkpoint/checkpoint.ts";
import { decayData, writeRawF64 } from "./streaming/data_files.ts";

const DECAY = model("a * exp(-b * x) + c");
const P0 = [1, 1, 0];
const TOL = { ftol: 1e-12, xtol: 1e-12, gtol: 1e-12 };
const N = 200_000;
// No warm start: more iterations, hence more checkpoints to resume from.
const STREAM = {
  strategy: "streaming",
  config: { batchSize: 25_000, warmStart: false },
};

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "nlsq_ckpt_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function assertSame(a: ArrayLike<number>, b: ArrayLike<number>, rel = 1e-10) {
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i] - b[i]) / Math.abs(b[i]);
    assert.ok(d <= rel, `parameter ${i}: ${a[i]} vs ${b[i]} (rel ${d})`);
  }
}

async function fileFit(path: string, options: FitOptions = {}) {
  const src = await openSource(path, { columns: 2 });
  try {
    return await fit(DECAY, src, {
      p0: P0,
      ...TOL,
      workflow: STREAM,
      ...options,
    });
  } finally {
    await src.close();
  }
}

async function copyDir(from: string, to: string) {
  await Deno.mkdir(to);
  for await (const e of Deno.readDir(from)) {
    await Deno.copyFile(join(from, e.name), join(to, e.name));
  }
}

Deno.test("checkpoints: written every iteration, newest 3 kept, resume from an early one", async () => {
  await withDir(async (dir) => {
    const d = decayData(N);
    const path = join(dir, "data.f64");
    await writeRawF64(path, [d.x, d.y]);
    const ref = await fileFit(path);
    const ck = join(dir, "ck");
    const r = await fileFit(path, { checkpointDir: ck });
    assert.deepStrictEqual(Array.from(r.popt), Array.from(ref.popt));
    const files = await listCheckpoints(ck);
    assert.strictEqual(files.length, 3);
    // One run: checkpoint_<run>_<sequence>.nlsq, the newest three.
    const names = files.map((f) =>
      /^checkpoint_([\w-]+)_(\d{8})\.nlsq$/.exec(basename(f))
    );
    assert.ok(names.every((m) => m && m[1] === names[0]![1]), files.join());
    assert.deepStrictEqual(names.map((m) => Number(m![2])), [
      r.nit - 2,
      r.nit - 1,
      r.nit,
    ]);
    const cp = await readCheckpoint(files[0]);
    assert.strictEqual(cp.starts[0].state.nit, r.nit - 2);
    assert.strictEqual(cp.config.method, "trf");
    assert.strictEqual(cp.config.strategy, "streaming");
    assert.strictEqual(cp.data.nPoints, N);
    assert.ok(cp.progress && cp.progress.pass >= 1);
    assert.strictEqual(cp.progress.pointsProcessed, N);
    // Resuming from the oldest kept file (by path) ends where the run ended.
    const resumed = await fileFit(path, { resume: files[0] });
    assertSame(resumed.popt, ref.popt);
    assert.strictEqual(resumed.nit, ref.nit);
    assert.ok(resumed.notes.some((n) => n.startsWith("resumed from")));
  });
});

Deno.test("checkpoints: checkpointEvery and checkpointKeep; in-memory standard fits too", async () => {
  await withDir(async (dir) => {
    const d = decayData(20_000, { seed: 3 });
    const opts = { p0: P0, ...TOL, workflow: "standard" };
    const ref = await fit(DECAY, d.x, d.y, opts);
    const r = await fit(DECAY, d.x, d.y, {
      ...opts,
      checkpointDir: dir,
      checkpointEvery: 2,
      checkpointKeep: 2,
    });
    assert.deepStrictEqual(Array.from(r.popt), Array.from(ref.popt));
    const files = await listCheckpoints(dir);
    assert.strictEqual(files.length, Math.min(2, Math.floor(r.nit / 2)));
    for (const f of files) {
      assert.strictEqual((await readCheckpoint(f)).starts[0].state.nit % 2, 0);
    }
    const resumed = await fit(DECAY, d.x, d.y, {
      ...opts,
      checkpointDir: dir,
      resume: true,
    });
    assertSame(resumed.popt, ref.popt);
    await assert.rejects(
      fit(DECAY, d.x, d.y, { ...opts, checkpointDir: dir, checkpointEvery: 0 }),
      RangeError,
    );
  });
});

Deno.test("checkpoints: a truncated or corrupt newest file is skipped", async () => {
  await withDir(async (dir) => {
    const d = decayData(N, { seed: 5 });
    const path = join(dir, "data.f64");
    await writeRawF64(path, [d.x, d.y]);
    const ref = await fileFit(path);
    const ck = join(dir, "ck");
    await fileFit(path, { checkpointDir: ck });
    const [oldest, middle, newest] = await listCheckpoints(ck);

    // Truncated newest: resume from the one before.
    const a = join(dir, "a");
    await copyDir(ck, a);
    const bytes = await Deno.readFile(join(a, basename(newest)));
    await Deno.writeFile(join(a, basename(newest)), bytes.subarray(0, 200));
    await assert.rejects(
      readCheckpoint(join(a, basename(newest))),
      (e) => e instanceof CheckpointError && e.code === "corrupt",
    );
    const la = await loadLatestCheckpoint(a);
    assert.strictEqual(basename(la.path), basename(middle));
    assert.strictEqual(la.skipped.length, 1);
    const ra = await fileFit(path, { checkpointDir: a, resume: true });
    assertSame(ra.popt, ref.popt);
    assert.ok(ra.notes.some((n) => /skipped damaged checkpoint/.test(n)));
    assert.ok(
      ra.notes.some((n) =>
        n.includes(`resumed from ${join(a, basename(middle))}`)
      ),
    );

    // Flipped bytes in the newest two (same length): back to the oldest.
    const b = join(dir, "b");
    await copyDir(ck, b);
    for (const f of [middle, newest]) {
      const buf = await Deno.readFile(join(b, basename(f)));
      buf[buf.length - 40] ^= 0x01; // a digit of a number: still valid JSON
      await Deno.writeFile(join(b, basename(f)), buf);
    }
    const lb = await loadLatestCheckpoint(b);
    assert.strictEqual(basename(lb.path), basename(oldest));
    const c = join(dir, "c");
    await copyDir(b, c);
    const rb = await fileFit(path, { checkpointDir: b, resume: true });
    assertSame(rb.popt, ref.popt);

    // All damaged: a clear error, nothing loaded.
    await Deno.writeTextFile(join(c, basename(oldest)), "");
    await assert.rejects(
      fileFit(path, { checkpointDir: c, resume: true }),
      (e) =>
        e instanceof CheckpointError && e.code === "not_found" &&
        /no valid checkpoint.*3 damaged/.test(e.message),
    );
  });
});

Deno.test("checkpoints: resume with nothing to resume from is a clear error", async () => {
  await withDir(async (dir) => {
    const d = decayData(1000);
    await assert.rejects(
      fit(DECAY, d.x, d.y, { p0: P0, checkpointDir: dir, resume: true }),
      (e) =>
        e instanceof CheckpointError && e.code === "not_found" &&
        /no valid checkpoint/.test(e.message),
    );
    await assert.rejects(
      fit(DECAY, d.x, d.y, { p0: P0, resume: join(dir, "missing.nlsq") }),
      (e) => e instanceof CheckpointError && e.code === "not_found",
    );
    await assert.rejects(
      fit(DECAY, d.x, d.y, { p0: P0, resume: true }),
      TypeError,
    );
  });
});

Deno.test("checkpoints: a checkpoint of another model, data or loss is refused", async () => {
  await withDir(async (dir) => {
    const d = decayData(5000, { seed: 7 });
    await fit(DECAY, d.x, d.y, { p0: P0, checkpointDir: dir, maxNfev: 3 });
    const base = { p0: P0, checkpointDir: dir, resume: true } as const;
    await assert.rejects(
      fit(model("a * exp(-b * x) + c * x"), d.x, d.y, base),
      (e) => e instanceof CheckpointMismatchError && e.field === "model",
    );
    const y2 = d.y.slice();
    y2[17] += 1e-9;
    await assert.rejects(
      fit(DECAY, d.x, y2, base),
      (e) =>
        e instanceof CheckpointMismatchError && e.field === "data" &&
        /another data/.test(e.message),
    );
    await assert.rejects(
      fit(DECAY, d.x, d.y, { ...base, loss: "cauchy" }),
      (e) => e instanceof CheckpointMismatchError && e.field === "config",
    );
    await assert.rejects(
      fit(DECAY, d.x, d.y, { ...base, method: "lm" }),
      (e) => e instanceof CheckpointMismatchError && e.field === "config",
    );
    // The matching problem resumes (tolerances may differ).
    const r = await fit(DECAY, d.x, d.y, { ...base, ftol: 1e-10 });
    assert.ok(r.success);
  });
});

Deno.test("checkpoints: abort between batches leaves the last iteration on disk", async () => {
  await withDir(async (dir) => {
    const d = decayData(N, { seed: 9 });
    const path = join(dir, "data.f64");
    await writeRawF64(path, [d.x, d.y]);
    const ref = await fileFit(path);
    const ck = join(dir, "ck");
    const ac = new AbortController();
    const reason = new Error("stop requested");
    let batchesAfter = 0, nit = 0, abortPass = 0;
    await assert.rejects(
      fileFit(path, {
        checkpointDir: ck,
        checkpointEvery: 2, // iteration 3 is only on disk through the abort
        signal: ac.signal,
        onProgress: (p) => {
          if (p.phase === "iteration") nit = p.nit;
          if (p.phase !== "pass") return;
          if (ac.signal.aborted) batchesAfter++;
          if (nit === 3 && p.batch === 3) {
            abortPass = p.pass!;
            ac.abort(reason);
          }
        },
      }),
      (e) => e === reason,
    );
    assert.strictEqual(batchesAfter, 0); // stopped before the next batch
    const { checkpoint } = await loadLatestCheckpoint(ck);
    assert.strictEqual(checkpoint.starts[0].state.nit, 3);
    assert.strictEqual(checkpoint.progress?.pass, abortPass);
    assert.strictEqual(checkpoint.progress?.batch, 3);
    const resumed = await fileFit(path, { checkpointDir: ck, resume: true });
    assertSame(resumed.popt, ref.popt);
  });
});

Deno.test("checkpoints: a file that changes size mid-fit fails typed; the checkpoint stays valid", async () => {
  await withDir(async (dir) => {
    const d = decayData(N, { seed: 11 });
    const path = join(dir, "data.f64");
    await writeRawF64(path, [d.x, d.y]);
    const ck = join(dir, "ck");
    let grown = false, nit = 0;
    await assert.rejects(
      fileFit(path, {
        checkpointDir: ck,
        onProgress: (p) => {
          if (p.phase === "iteration") nit = p.nit;
          if (!grown && p.phase === "pass" && nit === 2 && p.batch === 2) {
            grown = true;
            Deno.writeFileSync(path, new Uint8Array(16), { append: true });
          }
        },
      }),
      (e) => e instanceof DataSourceError && e.code === "changed",
    );
    const { checkpoint } = await loadLatestCheckpoint(ck);
    assert.strictEqual(checkpoint.starts[0].state.nit, 2);
    // The grown file is other data now: resuming against it is refused.
    await assert.rejects(
      fileFit(path, { checkpointDir: ck, resume: true }),
      (e) => e instanceof CheckpointMismatchError && e.field === "data",
    );
  });
});
