// How the command line classifies errors: by type (the library's typed input
// errors, TypeError/RangeError, file-system errors) into exit code 2 with one
// line; everything else is a bug (exit 3, with the stack). Real checkpoint
// directories and files for the checkpoint cases.

import assert from "node:assert";
import { join } from "node:path";
import { describeError, isInputError } from "../cli.ts";
import { InterruptedError } from "../cli/errors.ts";
import { UsageError } from "../cli/args.ts";
import { ModelSyntaxError } from "../model/syntax_error.ts";
import { DataSourceError } from "../data/data_source_error.ts";
import {
  CheckpointError,
  CheckpointMismatchError,
} from "../checkpoint/checkpoint.ts";
import { HostlistSyntaxError } from "../cluster/hostlist.ts";
import { GpuKernelError, GpuUnavailableError } from "../gpu/errors.ts";
import {
  MpiError,
  MpiPermissionError,
  MpiUnavailableError,
} from "../cluster/mpi_errors.ts";
import { model } from "../model/model.ts";
import { DATA, runCli } from "./_cli.ts";

Deno.test("describeError: input errors by type exit 2 on one line", () => {
  let syntax: unknown;
  try {
    model("a*exp(-b*t");
  } catch (e) {
    syntax = e;
  }
  assert.ok(syntax instanceof ModelSyntaxError);
  const inputs: Error[] = [
    new UsageError("missing --model"),
    syntax as Error,
    new DataSourceError("column", "unknown column", { path: "d.csv" }),
    new CheckpointError("corrupt", "invalid checkpoint", "/tmp/c.nlsq"),
    new CheckpointMismatchError("data", "abc", "def", "/tmp/c.nlsq"),
    new HostlistSyntaxError("node[1-", "unclosed bracket"),
    new GpuUnavailableError("no adapter"),
    new MpiUnavailableError([]),
    new MpiPermissionError(),
    new TypeError("path must be a non-empty string"),
    new RangeError("batchSize must be an integer >= 1"),
    new Deno.errors.NotFound("no such file"),
    new Deno.errors.PermissionDenied("permission denied"),
    new Deno.errors.NotCapable("requires --allow-read"),
    new Deno.errors.NotADirectory("not a directory"),
    new Deno.errors.IsADirectory("is a directory"),
  ];
  for (const e of inputs) {
    const d = describeError(e);
    assert.strictEqual(d.code, 2, `${e.name}: ${d.text}`);
    assert.ok(isInputError(e), e.name);
    assert.ok(d.text.startsWith("nlsq: error: "), d.text);
    // One line, except a model syntax error's caret lines.
    if (!(e instanceof ModelSyntaxError)) {
      assert.strictEqual(d.text.split("\n").length, 2, d.text);
    }
    assert.doesNotMatch(d.text, /^\s+at /m);
  }
  assert.match(describeError(syntax).text, /model syntax error: .*\n.*\^/s);
});

Deno.test("describeError: bugs exit 3 with the stack, whatever their name", () => {
  const named = (name: string) => Object.assign(new Error("boom"), { name });
  const bugs: unknown[] = [
    new Error("boom"),
    new GpuKernelError("bad WGSL"),
    new MpiError("MPI_Bcast", 5, "invalid count"),
    new SyntaxError("Unexpected token"),
    // Names no longer decide: these are not the library's classes.
    named("DataSourceError"),
    named("ModelSyntaxError"),
    named("NotFound"),
    named("AbortError"),
    Object.assign(new Error("interrupted (SIGINT)")),
    "a string",
  ];
  for (const e of bugs) {
    const d = describeError(e);
    assert.strictEqual(d.code, 3, String(e));
    assert.match(d.text, /^nlsq: internal error: /);
    assert.match(d.text, /please report it/);
    if (e instanceof Error) assert.match(d.text, /\n\s+at /, "stack");
  }
});

Deno.test("describeError: an InterruptedError exits 130", () => {
  assert.deepStrictEqual(describeError(new InterruptedError()), {
    code: 130,
    text: "nlsq: interrupted\n",
  });
});

Deno.test("fit: checkpoint problems exit 2 with one line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "a_file");
    await Deno.writeTextFile(file, "not a directory");
    const damaged = join(dir, "damaged");
    await Deno.mkdir(damaged);
    await Deno.writeTextFile(
      join(damaged, "checkpoint_00000001.nlsq"),
      "garbage",
    );
    const fitArgs = [
      "fit",
      "-m",
      "a*exp(-b*t)+c",
      "-d",
      join(DATA, "decay.csv"),
      "--y",
      "signal",
    ];
    const cases: [string[], RegExp][] = [
      [
        ["--checkpoint-dir", file],
        /^nlsq: error: --checkpoint-dir: .*a_file exists and is not a directory\n$/,
      ],
      [
        ["--checkpoint-dir", join(file, "sub")],
        /^nlsq: error: --checkpoint-dir: Not a directory.*\n$/,
      ],
      [
        ["--checkpoint-dir", join(dir, "none"), "--resume"],
        /^nlsq: error: no checkpoint to resume from: the path does not exist .*\n$/,
      ],
      [
        ["--checkpoint-dir", damaged, "--resume"],
        /^nlsq: error: no valid checkpoint to resume from \(1 damaged file\(s\) skipped: checkpoint_00000001\.nlsq\).*\n$/,
      ],
    ];
    for (const [extra, pattern] of cases) {
      const run = await runCli([...fitArgs, ...extra]);
      const what = extra.join(" ");
      assert.strictEqual(run.code, 2, `${what}: ${run.stderr}`);
      assert.match(run.stderr, pattern, what);
      assert.strictEqual(run.stdout, "", what);
    }
    // A checkpoint of another model is refused (CheckpointMismatchError).
    const ck = join(dir, "ck");
    const first = await runCli([...fitArgs, "--checkpoint-dir", ck]);
    assert.strictEqual(first.code, 0, first.stderr);
    const other = await runCli([
      "fit",
      "-m",
      "a*exp(-b*t)",
      "-d",
      join(DATA, "decay.csv"),
      "--y",
      "signal",
      "--checkpoint-dir",
      ck,
      "--resume",
    ]);
    assert.strictEqual(other.code, 2, other.stderr);
    assert.match(
      other.stderr,
      /^nlsq: error: the checkpoint belongs to another model: .*\n$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
