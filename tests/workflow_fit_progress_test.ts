// An onProgress callback that throws, or returns a promise that rejects, ends
// the fit with that very error: the fit rejects, its evaluator and the
// source's file handles are released (the test sanitizers check), and no
// rejection is left unhandled (which would end the process) or swallowed
// (by multi-start, say).

import assert from "node:assert";
import { join } from "node:path";
import { fit, type FitOptions, type FitProgress } from "../workflow/fit.ts";
import { model } from "../model/model.ts";
import { arraySource, openSource } from "../data/mod.ts";
import { decayData, writeCsv } from "./streaming/data_files.ts";

const DECAY = model("a * exp(-b * x) + c");
const P0 = [1, 1, 0];

let unhandled = 0;
globalThis.addEventListener("unhandledrejection", (e) => {
  unhandled++;
  e.preventDefault();
});

/** Rejects with `error` itself; afterwards no rejection went unhandled. */
async function assertFailsWith(run: Promise<unknown>, error: Error) {
  const before = unhandled;
  await assert.rejects(run, (e: unknown) => {
    assert.strictEqual(e, error);
    return true;
  });
  // Reports still in flight settle within a few turns of the event loop.
  await new Promise((r) => setTimeout(r, 50));
  assert.strictEqual(unhandled, before, "an unhandled rejection");
}

/** An onProgress that fails (sync or async) at the `at`-th report of `phase`. */
function failing(
  phase: FitProgress["phase"],
  at: number,
  mode: "throw" | "reject",
  error: Error,
  seen: FitProgress[],
): FitOptions["onProgress"] {
  let count = 0;
  return (p) => {
    seen.push(p);
    if (p.phase !== phase || ++count !== at) return;
    if (mode === "throw") throw error;
    return Promise.reject(error);
  };
}

for (const mode of ["throw", "reject"] as const) {
  Deno.test(`onProgress that ${mode}s: an in-memory fit rejects with its error`, async () => {
    const d = decayData(2000, { seed: 3 });
    const error = new Error(`stop (${mode})`);
    const seen: FitProgress[] = [];
    await assertFailsWith(
      fit(DECAY, d.x, d.y, {
        p0: P0,
        onProgress: failing("iteration", 2, mode, error, seen),
      }),
      error,
    );
    // It stopped at the second iteration: no report after the failing one.
    assert.deepStrictEqual(seen.map((p) => p.nit), [1, 2]);
    // The library is not left in a broken state.
    const r = await fit(DECAY, d.x, d.y, { p0: P0 });
    assert.ok(r.success, r.message);
  });

  Deno.test(`onProgress that ${mode}s: multi-start does not swallow it`, async () => {
    const d = decayData(2000, { seed: 4 });
    const error = new Error(`stop (${mode})`);
    await assertFailsWith(
      fit(DECAY, d.x, d.y, {
        p0: P0,
        bounds: [[0, 0, -5], [10, 5, 5]],
        goal: "robust",
        onProgress: failing("iteration", 3, mode, error, []),
      }),
      error,
    );
  });

  Deno.test(`onProgress that ${mode}s during a pass over a CSV file: the streaming fit rejects with its error`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      const d = decayData(5000, { seed: 5 });
      const path = join(dir, "decay.csv");
      await writeCsv(path, ["x", "y"], [d.x, d.y]);
      const src = await openSource(path);
      const error = new Error(`stop (${mode})`);
      const seen: FitProgress[] = [];
      try {
        await assertFailsWith(
          fit(DECAY, src, {
            p0: P0,
            workflow: { strategy: "streaming", config: { batchSize: 500 } },
            onProgress: failing("pass", 3, mode, error, seen),
          }),
          error,
        );
      } finally {
        await src.close();
      }
      const passes = seen.filter((p) => p.phase === "pass");
      assert.strictEqual(seen.length, passes.length, "no iteration finished");
      // A rejection is seen at the next report at the latest.
      assert.ok(
        passes.length === 3 || (mode === "reject" && passes.length === 4),
        `${passes.length} pass reports`,
      );
      // The file can be fitted again at once.
      const again = await openSource(path);
      const r = await fit(DECAY, again, {
        p0: P0,
        workflow: { strategy: "streaming", config: { batchSize: 500 } },
      });
      await again.close();
      assert.ok(r.success, r.message);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("onProgress returning a promise: the fit waits for it after each iteration", async () => {
  const d = decayData(2000, { seed: 6 });
  const log: string[] = [];
  const r = await fit(DECAY, d.x, d.y, {
    p0: P0,
    onProgress: async (p) => {
      log.push(`start ${p.nit}`);
      await new Promise((res) => setTimeout(res, 2));
      log.push(`end ${p.nit}`);
    },
  });
  assert.ok(r.success && r.nit >= 2, r.message);
  const expected = Array.from(
    { length: r.nit },
    (_, i) => [`start ${i + 1}`, `end ${i + 1}`],
  ).flat();
  assert.deepStrictEqual(log, expected);
});

Deno.test("a pass report that rejects after the pass ended still fails the fit", async () => {
  const d = decayData(3000, { seed: 7 });
  const error = new Error("late");
  const src = arraySource(d.x, d.y);
  let passReports = 0;
  await assertFailsWith(
    fit(DECAY, src, {
      p0: P0,
      workflow: { strategy: "streaming", config: { batchSize: 3000 } },
      // Every pass report rejects, a little later than the pass ends.
      onProgress: (p) => {
        if (p.phase !== "pass") return;
        passReports++;
        return new Promise((_, reject) => setTimeout(() => reject(error), 5));
      },
    }),
    error,
  );
  assert.ok(passReports >= 1);
});
