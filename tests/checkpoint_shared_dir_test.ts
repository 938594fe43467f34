// Several fits sharing one checkpoint directory, concurrently in one process
// and in two processes: none fails, none prunes another's files, and each
// resumes from its own newest checkpoint afterwards.

import assert from "node:assert";
import { basename, join } from "node:path";
import { fit } from "../workflow/fit.ts";
import { model } from "../model/model.ts";
import { openSource } from "../data/mod.ts";
import {
  arraysFingerprint,
  CheckpointMismatchError,
  listCheckpoints,
  readCheckpoint,
} from "../checkpoint/checkpoint.ts";
import { writeRawF64 } from "./streaming/data_files.ts";
import {
  CHILD_MODEL,
  CHILD_P0,
  CHILD_TOLERANCES,
} from "./streaming/fit_child.ts";

const CHILD = new URL("./streaming/fit_child.ts", import.meta.url).pathname;
const DECAY = model(CHILD_MODEL);
const TOL = CHILD_TOLERANCES;

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "nlsq_ckpt_shared_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** y = a exp(-b x) + c + small deterministic noise; a problem per k. */
function problem(k: number, n: number) {
  let s = 1000 + k;
  const rnd = () => (s = (s * 16807) % 2147483647) / 2147483647 - 0.5;
  const [a, b, c] = [2 + k, 0.4 + 0.15 * k, 0.3 * k - 0.5];
  const x = Float64Array.from({ length: n }, (_, i) => (8 * i) / n);
  const y = Float64Array.from(
    x,
    (t) => a * Math.exp(-b * t) + c + 0.01 * rnd(),
  );
  return { x, y, truth: [a, b, c] };
}

function assertSame(a: ArrayLike<number>, b: ArrayLike<number>, what: string) {
  for (let i = 0; i < b.length; i++) {
    const rel = Math.abs(a[i] / b[i] - 1);
    assert.ok(rel <= 1e-10, `${what}, parameter ${i}: ${a[i]} vs ${b[i]}`);
  }
}

function noteAfter(r: { notes: readonly string[] }, prefix: string): string {
  const note = r.notes.find((n) => n.startsWith(prefix));
  assert.ok(note, `no "${prefix}" note in ${r.notes.join(" | ")}`);
  return note.slice(prefix.length).replace(/ \(iteration \d+\)$/, "");
}

/** Files per run id, from the names. */
async function runsOf(dir: string): Promise<Map<string, string[]>> {
  const runs = new Map<string, string[]>();
  for (const f of await listCheckpoints(dir)) {
    const m = /^checkpoint_([\w-]+)_\d{8}\.nlsq$/.exec(basename(f));
    assert.ok(m, f);
    runs.set(m[1], [...runs.get(m[1]) ?? [], f]);
  }
  return runs;
}

Deno.test("shared checkpoint dir: 6 concurrent fits in one process, each resumes its own", async () => {
  await withDir(async (dir) => {
    const K = 6, KEEP = 2;
    const problems = Array.from({ length: K }, (_, k) => problem(k, 4000));
    const opts = { p0: [1, 1, 0], ...TOL, workflow: "standard" };
    const refs = await Promise.all(
      problems.map((d) => fit(DECAY, d.x, d.y, opts)),
    );
    const runs = await Promise.all(problems.map((d) =>
      fit(DECAY, d.x, d.y, {
        ...opts,
        checkpointDir: dir,
        checkpointKeep: KEEP,
      })
    ));
    for (let k = 0; k < K; k++) {
      assert.ok(refs[k].success, `fit ${k}`);
      // Six genuinely different answers: resuming another's would show.
      problems[k].truth.forEach((t, i) =>
        assert.ok(Math.abs(refs[k].popt[i] - t) < 0.01, `fit ${k}, ${i}`)
      );
      assert.deepStrictEqual(
        Array.from(runs[k].popt),
        Array.from(refs[k].popt),
      );
    }
    // One run per fit, each with its newest KEEP files, none pruned by
    // another; the last one holds the fit's final parameters.
    const byRun = await runsOf(dir);
    assert.strictEqual(byRun.size, K);
    const lasts = runs.map((r) => noteAfter(r, "last checkpoint: "));
    for (const [k, r] of runs.entries()) {
      const cp = await readCheckpoint(lasts[k]);
      assert.deepStrictEqual(cp.starts[0].state.x, Array.from(r.popt));
      assert.strictEqual(cp.starts[0].state.nit, r.nit);
      const own = byRun.get(cp.run)!;
      assert.strictEqual(own.length, Math.min(KEEP, r.nit));
      assert.strictEqual(own.at(-1), lasts[k]);
    }

    // Each resumes (concurrently again) from its own newest checkpoint,
    // passing over the other five problems' files.
    const resumed = await Promise.all(
      problems.map((d) =>
        fit(DECAY, d.x, d.y, { ...opts, checkpointDir: dir, resume: true })
      ),
    );
    for (const [k, r] of resumed.entries()) {
      assert.strictEqual(noteAfter(r, "resumed from "), lasts[k]);
      assertSame(r.popt, refs[k].popt, `resumed ${k}`);
    }
    // The resumed fits are new runs: the first runs' files are all still
    // there.
    for (const files of byRun.values()) {
      for (const f of files) assert.ok((await Deno.lstat(f)).isFile, f);
    }

    // A seventh problem has nothing to resume from: the newest other
    // problem's checkpoint is reported as a mismatch.
    const seventh = problem(K, 4000);
    const fp = await arraysFingerprint([seventh.x, seventh.y, null, null]);
    await assert.rejects(
      fit(DECAY, seventh.x, seventh.y, {
        ...opts,
        checkpointDir: dir,
        resume: true,
      }),
      (e) =>
        e instanceof CheckpointMismatchError && e.field === "data" &&
        e.expected === fp,
    );
  });
});

function child(args: string[]): Promise<Deno.CommandOutput> {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CHILD, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
}

async function childResult(out: Deno.CommandOutput, outPath: string) {
  assert.strictEqual(
    out.code,
    0,
    `child failed: ${new TextDecoder().decode(out.stderr)}`,
  );
  return JSON.parse(await Deno.readTextFile(outPath)) as {
    popt: number[];
    nit: number;
    notes: string[];
  };
}

Deno.test("shared checkpoint dir: 2 concurrent processes, each resumes its own", async () => {
  await withDir(async (dir) => {
    const N = 100_000, BATCH = "20000";
    const ck = join(dir, "ck");
    const paths = [join(dir, "p0.f64"), join(dir, "p1.f64")];
    const refs = [];
    for (const [k, path] of paths.entries()) {
      const d = problem(k + 1, N);
      await writeRawF64(path, [d.x, d.y]);
      const src = await openSource(path, { columns: 2 });
      refs.push(
        await fit(DECAY, src, {
          p0: CHILD_P0,
          ...TOL,
          workflow: {
            strategy: "streaming",
            config: { batchSize: Number(BATCH), warmStart: false },
          },
        }),
      );
      await src.close();
      assert.ok(refs[k].success && refs[k].nit >= 3, `nit ${refs[k].nit}`);
    }
    assert.notDeepStrictEqual(
      Array.from(refs[0].popt),
      Array.from(refs[1].popt),
    );

    const runBoth = (tag: string, extra: string[]) =>
      Promise.all(paths.map(async (path, k) => {
        const outPath = join(dir, `${tag}_${k}.json`);
        const args = [path, ck, outPath, "--batch", BATCH, "--no-warm-start"];
        // Throttled (timing only) so that the two runs overlap in time.
        args.push("--throttle-ms", "3");
        return await childResult(await child([...args, ...extra]), outPath);
      }));
    const first = await runBoth("first", []);
    const lasts = first.map((r) => noteAfter(r, "last checkpoint: "));
    for (const [k, r] of first.entries()) {
      assertSame(r.popt, refs[k].popt, `process ${k}`);
      assert.strictEqual(
        (await readCheckpoint(lasts[k])).starts[0].state.nit,
        r.nit,
      );
    }
    const byRun = await runsOf(ck);
    assert.strictEqual(byRun.size, 2);
    for (const files of byRun.values()) assert.strictEqual(files.length, 3);

    const again = await runBoth("resumed", ["--resume"]);
    for (const [k, r] of again.entries()) {
      assert.strictEqual(noteAfter(r, "resumed from "), lasts[k]);
      assertSame(r.popt, refs[k].popt, `resumed process ${k}`);
    }
    for (const files of byRun.values()) {
      for (const f of files) assert.ok((await Deno.lstat(f)).isFile, f);
    }
  });
});
