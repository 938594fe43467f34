// The progress bar: shown on a terminal after the quiet period, never when
// stderr is a pipe.

import assert from "node:assert";
import { join } from "node:path";
import { DATA, hasScript, ROOT, runCli } from "./_cli.ts";
import {
  FitProgressBar,
  FitProgressTracker,
  progressLine,
  TYPICAL_PASSES,
} from "../cli/progress.ts";
import { fit, type FitProgress } from "../workflow/fit.ts";
import { model } from "../model/model.ts";
import { arraySource } from "../data/array_source.ts";

function fakeStream() {
  const out: string[] = [];
  return {
    out,
    stream: {
      isTTY: true,
      columns: 120,
      write: (s: string) => out.push(s) > 0,
    },
  };
}

const progress = (nit: number) => ({
  phase: "iteration" as const,
  start: 0,
  nit,
  nfev: nit + 1,
  cost: 1 / (nit + 1),
  elapsedMs: 100 * nit,
});

Deno.test("progress bar: nothing before the delay, then redraws, erased at stop", async () => {
  const { out, stream } = fakeStream();
  const early = new FitProgressBar({ enabled: true, delayMs: 10_000, stream });
  early.update(progress(1));
  early.stop();
  assert.deepStrictEqual(out, []);

  const bar = new FitProgressBar({
    enabled: true,
    delayMs: 5,
    stream,
    fps: 1000,
  });
  bar.update(progress(1));
  await new Promise((r) => setTimeout(r, 30));
  bar.update(progress(2));
  await new Promise((r) => setTimeout(r, 30));
  bar.stop();
  bar.stop();
  const text = out.join("");
  assert.match(text, /iter 2 \| nfev 3 \| cost 3\.3333e-1/);
  // cli-progress clears the line when it stops (clearOnComplete).
  assert.ok(text.lastIndexOf("\x1b[2K") > text.lastIndexOf("iter 2"));
});

Deno.test("progress bar: disabled draws nothing", async () => {
  const { out, stream } = fakeStream();
  const bar = new FitProgressBar({ enabled: false, delayMs: 0, stream });
  bar.update(progress(3));
  await new Promise((r) => setTimeout(r, 20));
  bar.stop();
  assert.deepStrictEqual(out, []);
});

Deno.test("progressLine shows a bar, batches and ETA during passes", () => {
  const line = progressLine({
    phase: "pass",
    start: 0,
    nit: 4,
    nfev: 5,
    cost: 12.5,
    pass: 3,
    batch: 7,
    pointsProcessed: 250,
    totalPoints: 1000,
    etaSeconds: 125,
    elapsedMs: 60_000,
  }, 8);
  assert.strictEqual(
    line,
    "fit [##------]  25% | pass 3 batch 7 | iter 4 | nfev 5 | cost 1.2500e1 | fit ETA ~2 min 5 s",
  );
});

Deno.test("fit: no progress output when stderr is not a terminal", async () => {
  const run = await runCli([
    "fit",
    "-m",
    "a*exp(-b*t)+c",
    "-d",
    join(DATA, "decay.csv"),
    "--x",
    "t",
    "--y",
    "signal",
  ]);
  assert.strictEqual(run.code, 0);
  assert.strictEqual(run.stderr, "");
});

Deno.test({
  name: "fit: the bar is drawn on a terminal (util-linux script as the pty)",
  ignore: Deno.build.os !== "linux" || !(await hasScript()),
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const log = join(dir, "tty.log");
      const cmd = [
        Deno.execPath(),
        "run",
        "-A",
        join(ROOT, "cli.ts"),
        "fit",
        "-m",
        "'b1*(1-exp(-b2*x))'",
        "-d",
        join(DATA, "misra1a.csv"),
        "--p0",
        "b1=500,b2=1e-4",
        "--goal",
        "robust",
        ">",
        join(dir, "out.txt"),
      ].join(" ");
      const r = await new Deno.Command("script", {
        args: ["-qec", cmd, log],
        env: { NLSQ_PROGRESS_DELAY_MS: "0" },
        stdin: "null",
        stdout: "null",
        stderr: "null",
        signal: AbortSignal.timeout(60_000),
      }).output();
      assert.strictEqual(r.code, 0);
      const tty = await Deno.readTextFile(log);
      assert.match(tty, /fit \S+ (starting|\d+ starts running|iter \d+)/);
      // The report itself went to the file, not to the terminal.
      assert.match(
        await Deno.readTextFile(join(dir, "out.txt")),
        /\[\[Variables\]\]/,
      );
      const quiet = join(dir, "quiet.log");
      await new Deno.Command("script", {
        args: ["-qec", `${cmd} -q`, quiet],
        env: { NLSQ_PROGRESS_DELAY_MS: "0" },
        stdin: "null",
        stdout: "null",
        stderr: "null",
        signal: AbortSignal.timeout(60_000),
      }).output();
      assert.doesNotMatch(
        await Deno.readTextFile(quiet),
        /fit \S+ (starting|iter)/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("progress of a real streaming fit: counters advance, the ETA spans the fit", async () => {
  const n = 200_000;
  const t = new Float64Array(n), y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    t[i] = (10 * i) / (n - 1);
    y[i] = 5 * Math.exp(-0.7 * t[i]) + 1 + 0.05 * Math.sin(1234.5 * t[i]);
  }
  const tracker = new FitProgressTracker();
  const raw: FitProgress[] = [];
  const shown: FitProgress[] = [];
  const r = await fit(
    model("a*exp(-b*t)+c", { variables: ["t"] }),
    arraySource(t, y),
    {
      p0: [1, 1, 1],
      workflow: "streaming",
      // Batches of 27962 rows from the budget: several per pass.
      memoryLimitGb: 0.005,
      onProgress: (p) => {
        raw.push(p);
        shown.push(tracker.update(p));
      },
    },
  );
  assert.ok(r.success);
  assert.strictEqual(r.strategy, "streaming");
  const passes = shown.filter((p) => p.phase === "pass");
  assert.ok(passes.length >= 4, `${passes.length} pass events`);
  let last: FitProgress | undefined;
  let later = 0;
  raw.forEach((p, i) => {
    if (p.phase === "iteration") last = p;
    else if (last) {
      // Between iterations, the bar shows the last iteration's counters.
      assert.strictEqual(shown[i].nit, last.nit);
      assert.strictEqual(shown[i].nfev, last.nfev);
      assert.strictEqual(shown[i].cost, last.cost);
      later++;
    }
  });
  assert.ok(later > 0 && last!.nit >= 2, "passes after iterations");
  assert.ok(passes.at(-1)!.nfev > 0 && passes.at(-1)!.nit > 0);
  // The ETA is the whole fit's: longer than what is left of the pass while
  // more passes are expected after it.
  let compared = 0;
  shown.forEach((p, i) => {
    const passLeft = raw[i].etaSeconds;
    if (
      p.phase === "pass" && p.pass! < TYPICAL_PASSES &&
      p.etaSeconds !== undefined && passLeft !== undefined
    ) {
      assert.ok(p.etaSeconds > passLeft, `${p.etaSeconds} > ${passLeft}`);
      compared++;
    }
  });
  assert.ok(compared > 0);
});
