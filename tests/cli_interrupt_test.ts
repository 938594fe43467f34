// Ctrl-C during `nlsq fit`: a real subprocess on a streaming fit of a real
// file gets a real SIGINT once its first checkpoint is on disk. It writes a
// last checkpoint, says where in one line, exits 130; resuming from that
// checkpoint finishes the fit at scipy's minimum. On a terminal (a pty), a
// typed Ctrl-C does the same, after a progress bar whose counters advance,
// and the bar's line is cleared first.

import assert from "node:assert";
import { join } from "node:path";
import { listCheckpoints } from "../checkpoint/checkpoint.ts";
import { hasScript, ROOT, runCliJson } from "./_cli.ts";
import { havePython, pythonCommand } from "./_tools.ts";

const MODEL = "a*exp(-b*t)+c";
// Below the warm start's 200k rows: the fit iterates from p0 (8 iterations).
const ROWS = 150_000;
// Passes that parse the text again, in batches of 1000 rows, on one thread:
// a streaming fit of a few seconds (with the binary copy it takes 0.1 s).
const SLOW = [
  "--binary-copy",
  "none",
  "--memory-limit-gb",
  "1e-6",
  "--threads",
  "1",
];

/** A CSV for a streaming fit of a few seconds (see SLOW). */
async function writeData(path: string): Promise<void> {
  const lines = ["t,y"];
  for (let i = 0; i < ROWS; i++) {
    const t = (10 * i) / (ROWS - 1);
    const y = 5 * Math.exp(-0.7 * t) + 1 + 0.05 * Math.sin(1234.5 * t);
    lines.push(`${t.toFixed(6)},${y.toFixed(6)}`);
  }
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
}

function scipyFit(path: string): number[] {
  const script = `
import sys, json, numpy as np
from scipy.optimize import curve_fit
d = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
f = lambda t, a, b, c: a*np.exp(-b*t)+c
p, _ = curve_fit(f, d[:, 0], d[:, 1], p0=[1, 1, 1], ftol=1e-14, xtol=1e-14, gtol=1e-14)
print(json.dumps(list(p)))
`;
  const out = new Deno.Command(pythonCommand(), {
    args: ["-c", script, path],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

/** Waits until `dir` holds a checkpoint, or the child has exited. */
async function firstCheckpoint(
  dir: string,
  exited: () => boolean,
  count = 1,
): Promise<string[]> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline && !exited()) {
    const files = await listCheckpoints(dir);
    if (files.length >= count) return files;
    await new Promise((r) => setTimeout(r, 20));
  }
  return [];
}

Deno.test({
  name:
    "fit: SIGINT writes a last checkpoint, says where, exits 130; --resume finishes",
  ignore: Deno.build.os === "windows" || !havePython("numpy, scipy"),
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const csv = join(dir, "decay.csv");
      const ck = join(dir, "checkpoints");
      await writeData(csv);
      const args = [
        "fit",
        "-m",
        MODEL,
        "-d",
        csv,
        "--workflow",
        "streaming",
        ...SLOW,
        "--checkpoint-dir",
        ck,
      ];
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", join(ROOT, "cli.ts"), ...args],
        cwd: ROOT,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).spawn();
      let exited = false;
      child.status.then(() => exited = true);
      const seen = await firstCheckpoint(ck, () => exited);
      assert.ok(seen.length > 0, "a checkpoint appears while the fit runs");
      assert.ok(!exited, "the fit is still running");
      child.kill("SIGINT");
      const out = await child.output();
      const stdout = new TextDecoder().decode(out.stdout);
      const stderr = new TextDecoder().decode(out.stderr);
      assert.strictEqual(out.code, 130, stderr);
      assert.strictEqual(stdout, "", "no report of an unfinished fit");
      const m =
        /^nlsq: interrupted: last checkpoint (\S+) \(continue with --resume\)\n$/
          .exec(stderr);
      assert.ok(m, `one line naming the checkpoint: ${JSON.stringify(stderr)}`);
      const files = await listCheckpoints(ck);
      assert.strictEqual(m[1], files.at(-1), "the newest checkpoint");
      assert.ok((await Deno.stat(m[1])).size > 0);

      const { run, json } = await runCliJson([...args, "--resume"]);
      assert.strictEqual(run.code, 0, run.stderr);
      const notes = json.notes as string[];
      assert.ok(
        notes.some((n) => n.startsWith(`resumed from ${m[1]} (iteration `)),
        notes.join("\n"),
      );
      const expected = scipyFit(csv);
      const popt = json.popt as number[];
      for (let i = 0; i < 3; i++) {
        assert.ok(
          Math.abs(popt[i] - expected[i]) <= 1e-6 * Math.abs(expected[i]),
          `popt[${i}] ${popt[i]} vs scipy ${expected[i]}`,
        );
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "fit on a terminal: the bar counts passes and iterations; Ctrl-C clears it",
  ignore: Deno.build.os !== "linux" || !(await hasScript()),
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const csv = join(dir, "decay.csv");
      const ck = join(dir, "checkpoints");
      const log = join(dir, "tty.log");
      await writeData(csv);
      const cmd = [
        Deno.execPath(),
        "run",
        "-A",
        join(ROOT, "cli.ts"),
        "fit",
        "-m",
        `'${MODEL}'`,
        "-d",
        csv,
        "--workflow",
        "streaming",
        ...SLOW,
        "--checkpoint-dir",
        ck,
        ">",
        join(dir, "out.txt"),
      ].join(" ");
      // script runs the command on a pty and types what we write to it.
      const child = new Deno.Command("script", {
        args: ["-qec", cmd, log],
        env: { NLSQ_PROGRESS_DELAY_MS: "0", NO_COLOR: "1" },
        stdin: "piped",
        stdout: "null",
        stderr: "null",
        signal: AbortSignal.timeout(120_000),
      }).spawn();
      let exited = false;
      child.status.then(() => exited = true);
      const seen = await firstCheckpoint(ck, () => exited);
      assert.ok(seen.length > 0 && !exited, "interrupted while fitting");
      // The passes of the second iteration run after the first iteration's
      // counters reached the bar: wait for the second iteration's file.
      await firstCheckpoint(ck, () => exited, 2);
      const keys = child.stdin.getWriter();
      await keys.write(new Uint8Array([3])); // Ctrl-C
      const status = await child.status;
      await keys.close().catch(() => {});
      assert.strictEqual(status.code, 130);
      const tty = await Deno.readTextFile(log);
      // Pass lines carry the solver's counters and a whole-fit ETA.
      const counters = [
        ...tty.matchAll(
          /\| pass (\d+) batch \d+ \| iter (\d+) \| nfev (\d+) \| .*? \| fit ETA (~\d+ (?:s|min|h)|--)/g,
        ),
      ];
      assert.ok(counters.length > 0, "pass lines");
      assert.ok(
        counters.some((m) => Number(m[2]) >= 1 && Number(m[3]) >= 1),
        "iterations and evaluations advance during passes",
      );
      assert.ok(counters.some((m) => m[4].startsWith("~")), "an ETA");
      // The bar's line is erased before the message.
      const message = tty.indexOf(
        "nlsq: interrupted: last checkpoint " + join(ck, "checkpoint_"),
      );
      assert.ok(message > 0, tty.slice(-400));
      const clear = tty.lastIndexOf("\x1b[2K", message);
      assert.ok(clear > tty.lastIndexOf("fit ETA", message), "bar cleared");
      assert.ok(clear > tty.lastIndexOf(" iter ", message), "bar cleared");
      assert.strictEqual(await Deno.readTextFile(join(dir, "out.txt")), "");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
