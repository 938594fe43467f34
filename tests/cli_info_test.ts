// `nlsq info`, with all permissions and with none.

import assert from "node:assert";
import { runCli } from "./_cli.ts";
import { getAvailableMemoryInfo } from "../memory/available_memory.ts";

Deno.test("info -A reports Deno, memory, WebGPU, cluster and MPI", async () => {
  const run = await runCli(["info", "--gpu-timeout", "30"]);
  assert.strictEqual(run.code, 0, run.stderr);
  const text = run.stdout;
  assert.match(text, /^nlsq \d+\.\d+\.\d+/);
  assert.match(
    text,
    new RegExp(`Deno +${Deno.version.deno.replace(/\./g, "\\.")} \\(V8`),
  );
  for (const s of ["Runtime", "Memory", "WebGPU", "Cluster", "MPI"]) {
    assert.ok(text.includes(`[[${s}]]`), s);
  }
  assert.match(text, /available +\d+\.\d\d GB \(from /);
  assert.match(text, /system +\d+\.\d\d GB total/);
  assert.match(text, /cgroup limit +(none found|\d)/);
  assert.match(text, /adapter +\S/);
  assert.match(text, /library +\S/);
});

Deno.test("info --json matches the library's memory detection", async () => {
  const run = await runCli(["info", "--json", "--no-gpu"]);
  assert.strictEqual(run.code, 0, run.stderr);
  const info = JSON.parse(run.stdout);
  assert.strictEqual(info.deno.deno, Deno.version.deno);
  assert.strictEqual(info.platform.os, Deno.build.os);
  assert.strictEqual(info.permissions.read, "granted");
  const here = getAvailableMemoryInfo();
  assert.strictEqual(info.memory.source, here.source);
  // Free memory moves between two processes; the source and scale do not.
  assert.ok(Math.abs(info.memory.availableGb - here.availableGb) < 2);
  assert.ok(info.memory.totalGb >= info.memory.availableGb * 0.5);
  assert.strictEqual(info.webgpu.available, false);
  assert.match(info.webgpu.error, /not probed/);
  assert.strictEqual(info.mpi.launched, false);
  assert.ok(info.mpi.library !== null || typeof info.mpi.error === "string");
  assert.ok(
    info.cluster.detected === null || typeof info.cluster.detected === "object",
  );
});

Deno.test("info works without permissions and says what it could not read", async () => {
  const run = await runCli(["info", "--no-gpu"], []);
  assert.strictEqual(run.code, 0, run.stderr);
  assert.doesNotMatch(run.stderr, /PermissionDenied|NotCapable|error/i);
  const text = run.stdout;
  assert.match(text, /permissions +read prompt|permissions +read denied/);
  assert.match(text, /system +not read \(needs --allow-sys\)/);
  assert.match(text, /cgroup limit +not checked/);
  assert.match(text, /library +not loaded: .*--allow-ffi/);
  assert.match(text, /available +\d+\.\d\d GB \(from default\)/);
});

Deno.test("info --help, and bad options exit 2", async () => {
  const help = await runCli(["info", "--help"]);
  assert.strictEqual(help.code, 0);
  assert.match(help.stdout, /^Usage: nlsq info/);
  assert.match(help.stdout, /--json/);
  const bad = await runCli(["info", "--verbose"]);
  assert.strictEqual(bad.code, 2);
  assert.match(bad.stderr, /Unknown option '--verbose'/);
});
