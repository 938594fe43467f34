// Checkpoints on shared scratch space: nothing is ever written through a
// symbolic link someone planted in the checkpoint directory, neither at a
// predictable temporary name nor at the final name.

import assert from "node:assert";
import { join } from "node:path";
import { fit } from "../workflow/fit.ts";
import { model } from "../model/model.ts";
import {
  type CheckpointContent,
  listCheckpoints,
  newCheckpointRun,
  readCheckpoint,
  writeCheckpoint,
} from "../checkpoint/checkpoint.ts";
import { decayData } from "./streaming/data_files.ts";

const DECAY = model("a * exp(-b * x) + c");
const P0 = [1, 1, 0];
const TOL = { ftol: 1e-12, xtol: 1e-12, gtol: 1e-12 };
const SECRET = "precious content, not a checkpoint\n";

async function withDirs(
  fn: (ck: string, victims: string) => Promise<void>,
): Promise<void> {
  const base = await Deno.makeTempDir({ prefix: "nlsq_ckpt_link_" });
  try {
    const ck = join(base, "ck"), victims = join(base, "victims");
    await Deno.mkdir(ck);
    await Deno.mkdir(victims);
    await fn(ck, victims);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
}

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

const pad = (k: number) => String(k).padStart(8, "0");

// Every name this library ever used or that a guesser would try.
function predictableNames(): string[] {
  const out = [".tmp", "checkpoint.tmp", "checkpoint.nlsq"];
  for (let k = 0; k <= 64; k++) {
    const name = `checkpoint_${pad(k)}.nlsq`;
    out.push(
      name,
      `.${name}.tmp-${Deno.pid}`,
      `.${name}.tmp`,
      `${name}.tmp`,
      `.${name}.tmp-${Deno.pid + 1}`,
    );
  }
  return out;
}

Deno.test("checkpoint symlinks: links planted at predictable names are never followed", async () => {
  await withDirs(async (ck, victims) => {
    const victim = join(victims, "victim.txt");
    await Deno.writeTextFile(victim, SECRET);
    const planted = predictableNames();
    for (const [i, name] of planted.entries()) {
      // Half to the victim, half dangling (a write through would create it).
      const target = i % 2 ? victim : join(victims, `ghost_${i}`);
      await Deno.symlink(target, join(ck, name));
    }
    const d = decayData(5000, { seed: 21 });
    const plain = { p0: P0, ...TOL, workflow: "standard" };
    const opts = { ...plain, checkpointDir: ck };
    const ref = await fit(DECAY, d.x, d.y, plain);
    const r = await fit(DECAY, d.x, d.y, { ...opts, checkpointKeep: 50 });
    assert.ok(r.success && r.nit >= 3, `nit ${r.nit}`);
    assert.deepStrictEqual(Array.from(r.popt), Array.from(ref.popt));

    assert.strictEqual(await Deno.readTextFile(victim), SECRET);
    assert.deepStrictEqual(await names(victims), ["victim.txt"]);
    for (const [i, name] of planted.entries()) {
      const info = await Deno.lstat(join(ck, name));
      assert.ok(info.isSymlink, `${name} is no longer the planted link`);
      const target = i % 2 ? victim : join(victims, `ghost_${i}`);
      assert.strictEqual(await Deno.readLink(join(ck, name)), target);
    }
    // One regular file per iteration, no temporary files left behind, and
    // the links are neither listed nor read.
    const files = await listCheckpoints(ck);
    assert.strictEqual(files.length, r.nit);
    for (const f of files) assert.ok((await Deno.lstat(f)).isFile);
    const all = await names(ck);
    assert.strictEqual(all.length, planted.length + r.nit);
    assert.ok(!all.some((n) => n.includes(".tmp-") && !planted.includes(n)));
    const resumed = await fit(DECAY, d.x, d.y, { ...opts, resume: true });
    assert.ok(resumed.notes.some((n) => n.startsWith("resumed from")));
    for (let i = 0; i < 3; i++) {
      const rel = Math.abs(resumed.popt[i] / ref.popt[i] - 1);
      assert.ok(rel <= 1e-10, `parameter ${i}: rel ${rel}`);
    }
  });
});

const CONTENT: CheckpointContent = {
  model: { fingerprint: "m", description: "a * x" },
  data: { fingerprint: "d", description: "arrays", nPoints: 3 },
  config: {
    method: "trf",
    loss: "linear",
    fScale: 1,
    lower: [-Infinity],
    upper: [Infinity],
    nStarts: 1,
    ftol: 1e-8,
    xtol: 1e-8,
    gtol: 1e-8,
    maxNfev: 100,
    strategy: "standard",
    strategyConfig: null,
  },
  starts: [{
    start: 0,
    state: {
      method: "trf",
      x: [2],
      delta: 1,
      alpha: 0,
      nfev: 2,
      njev: 2,
      nit: 1,
      scale: null,
    },
  }],
  progress: null,
};

Deno.test("checkpoint symlinks: a link at the final name is replaced, its target untouched", async () => {
  await withDirs(async (ck, victims) => {
    const victim = join(victims, "victim.txt");
    await Deno.writeTextFile(victim, SECRET);
    const ghost = join(victims, "ghost");
    const run = newCheckpointRun();
    const first = join(ck, `checkpoint_${run}_${pad(1)}.nlsq`);
    const second = join(ck, `checkpoint_${run}_${pad(2)}.nlsq`);
    await Deno.symlink(victim, first);
    await Deno.symlink(ghost, second);

    const a = await writeCheckpoint(ck, CONTENT, { run, keep: 5 });
    const b = await writeCheckpoint(ck, CONTENT, { run, keep: 5 });
    assert.deepStrictEqual([a, b], [first, second]);
    assert.strictEqual(await Deno.readTextFile(victim), SECRET);
    assert.deepStrictEqual(await names(victims), ["victim.txt"]);
    for (const [path, sequence] of [[first, 1], [second, 2]] as const) {
      const info = await Deno.lstat(path);
      assert.ok(info.isFile && !info.isSymlink, `${path} is still a link`);
      const cp = await readCheckpoint(path);
      assert.strictEqual(cp.run, run);
      assert.strictEqual(cp.sequence, sequence);
    }
    assert.deepStrictEqual(await names(ck), [
      `checkpoint_${run}_${pad(1)}.nlsq`,
      `checkpoint_${run}_${pad(2)}.nlsq`,
    ]);
  });
});

Deno.test("checkpoint symlinks: pruning removes only the run's own regular files", async () => {
  await withDirs(async (ck, victims) => {
    const victim = join(victims, "victim.txt");
    await Deno.writeTextFile(victim, SECRET);
    const run = newCheckpointRun();
    // A link posing as an old file of this run, and another run's file.
    const posing = join(ck, `checkpoint_${run}_${pad(0)}.nlsq`);
    await Deno.symlink(victim, posing);
    const other = await writeCheckpoint(ck, CONTENT, {
      run: newCheckpointRun(),
    });
    for (let i = 0; i < 4; i++) {
      await writeCheckpoint(ck, CONTENT, { run, keep: 1 });
    }
    assert.deepStrictEqual(await listCheckpoints(ck, { run }), [
      join(ck, `checkpoint_${run}_${pad(4)}.nlsq`),
    ]);
    assert.ok((await Deno.lstat(posing)).isSymlink);
    assert.ok((await Deno.lstat(other)).isFile);
    assert.strictEqual(await Deno.readTextFile(victim), SECRET);
    await assert.rejects(
      writeCheckpoint(ck, CONTENT, { run: "../escape" }),
      RangeError,
    );
  });
});
