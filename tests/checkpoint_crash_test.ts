// Crash recovery across processes: a streaming fit of a 2M-point file runs
// in a child process, is killed with SIGKILL mid-pass once its first
// checkpoint is on disk, and a new process resumes from the checkpoint and
// ends with the parameters of an uninterrupted run.

import assert from "node:assert";
import { basename, join } from "node:path";
import { fit } from "../workflow/fit.ts";
import { model } from "../model/model.ts";
import { openSource } from "../data/mod.ts";
import {
  listCheckpoints,
  loadLatestCheckpoint,
} from "../checkpoint/checkpoint.ts";
import { decayData, writeRawF64 } from "./streaming/data_files.ts";
import {
  CHILD_MODEL,
  CHILD_P0,
  CHILD_TOLERANCES,
} from "./streaming/fit_child.ts";

const CHILD = new URL("./streaming/fit_child.ts", import.meta.url).pathname;
const N = 2_000_000;
const BATCH = 100_000;

function child(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CHILD, ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function finish(proc: Deno.ChildProcess, outPath: string) {
  const out = await proc.output();
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

Deno.test("checkpoint crash: SIGKILL mid-pass, resume in a new process, same parameters", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "nlsq_crash_" });
  try {
    const d = decayData(N, { seed: 42 });
    const data = join(dir, "big.f64");
    await writeRawF64(data, [d.x, d.y]);

    // The uninterrupted run (same code, same batches; no checkpoints).
    const src = await openSource(data, { columns: 2 });
    const ref = await fit(model(CHILD_MODEL), src, {
      p0: CHILD_P0,
      ...CHILD_TOLERANCES,
      workflow: {
        strategy: "streaming",
        config: { batchSize: BATCH, warmStart: false },
      },
    });
    await src.close();
    assert.ok(ref.success && ref.nit >= 3, `nit ${ref.nit}`);

    // Throttled so that one pass takes ~20 x 15 ms: the kill lands mid-pass.
    const ck = join(dir, "ck");
    const killed = child([
      data,
      ck,
      join(dir, "never.json"),
      "--batch",
      String(BATCH),
      "--no-warm-start",
      "--throttle-ms",
      "15",
    ]);
    // Two checkpoints, so the corrupt-newest case has one to fall back on.
    const deadline = Date.now() + 30_000;
    while ((await listCheckpoints(ck)).length < 2) {
      assert.ok(Date.now() < deadline, "no checkpoint appeared");
      await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 100)); // into the next pass
    killed.kill("SIGKILL");
    const status = await killed.status;
    assert.strictEqual(status.signal, "SIGKILL");
    await killed.stdout.cancel();
    await killed.stderr.cancel();

    const { checkpoint, path: newest } = await loadLatestCheckpoint(ck);
    const savedNit = checkpoint.starts[0].state.nit;
    assert.ok(savedNit >= 1 && savedNit < ref.nit, `saved at ${savedNit}`);

    const resumeIn = async (ckDir: string, name: string) => {
      const outPath = join(dir, name);
      const r = await finish(
        child([
          data,
          ckDir,
          outPath,
          "--batch",
          String(BATCH),
          "--no-warm-start",
          "--resume",
        ]),
        outPath,
      );
      assert.strictEqual(r.nit, ref.nit);
      for (let i = 0; i < 3; i++) {
        const rel = Math.abs(r.popt[i] - ref.popt[i]) / Math.abs(ref.popt[i]);
        assert.ok(rel <= 1e-10, `parameter ${i}: rel ${rel}`);
      }
      return r;
    };

    await t.step(
      "a new process resumes from the newest checkpoint",
      async () => {
        // A copy first: the resumed run writes new checkpoints into ck.
        const copy = join(dir, "ck_copy");
        await Deno.mkdir(copy);
        for (const f of await listCheckpoints(ck)) {
          await Deno.copyFile(f, join(copy, basename(f)));
        }
        const r = await resumeIn(ck, "resumed.json");
        assert.ok(
          r.notes.some((n) =>
            n.includes(`resumed from ${join(ck, basename(newest))}`)
          ),
        );
        await Deno.rename(copy, join(dir, "ck_corrupt"));
      },
    );

    await t.step(
      "with the newest checkpoint truncated, from the one before",
      async () => {
        const cd = join(dir, "ck_corrupt");
        const files = await listCheckpoints(cd);
        const last = files[files.length - 1];
        const bytes = await Deno.readFile(last);
        await Deno.writeFile(last, bytes.subarray(0, bytes.length >> 1));
        const r = await resumeIn(cd, "resumed_corrupt.json");
        assert.ok(r.notes.some((n) => /skipped damaged checkpoint/.test(n)));
        assert.ok(
          r.notes.some((n) =>
            n.includes(`resumed from ${files[files.length - 2]}`)
          ),
        );
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
