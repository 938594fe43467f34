import assert from "node:assert";
import { isAbsolute, join } from "node:path";
import { createCheckpointDirectory } from "../workflow/mod.ts";

const MOD = new URL("../workflow/mod.ts", import.meta.url).href;

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "nlsq_ckpt_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs `code` (with the module imported as `wf`) in a fresh `deno run`. */
async function child(code: string, flags: string[], cwd: string) {
  const process = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--no-config", ...flags, "-"],
    cwd,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const writer = process.stdin.getWriter();
  await writer.write(
    new TextEncoder().encode(`import * as wf from "${MOD}";\n${code}`),
  );
  await writer.close();
  const out = await process.output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout).trim(),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test("createCheckpointDirectory: nlsq_checkpoints/YYYYMMDD_HHMMSS", async () => {
  await withTempDir(async (base) => {
    const now = new Date(2025, 10, 21, 5, 18, 9);
    const dir = await createCheckpointDirectory(base, { now });
    assert.strictEqual(dir, join(base, "nlsq_checkpoints", "20251121_051809"));
    assert.ok((await Deno.stat(dir)).isDirectory);
    const current = await createCheckpointDirectory(base);
    assert.match(current, /\/nlsq_checkpoints\/\d{8}_\d{6}(_\d+)?$/);
    assert.ok(isAbsolute(current));
  });
});

Deno.test("createCheckpointDirectory: unique within one second, even concurrently", async () => {
  await withTempDir(async (base) => {
    const now = new Date(2024, 1, 29, 23, 59, 59);
    const first = await createCheckpointDirectory(base, { now });
    const second = await createCheckpointDirectory(base, { now });
    assert.ok(first.endsWith("20240229_235959"));
    assert.ok(second.endsWith("20240229_235959_1"));
    const many = await Promise.all(
      Array.from({ length: 6 }, () => createCheckpointDirectory(base, { now })),
    );
    assert.strictEqual(new Set([first, second, ...many]).size, 8);
    const names = [];
    for await (const e of Deno.readDir(join(base, "nlsq_checkpoints"))) {
      names.push(e.name);
    }
    assert.deepStrictEqual(names.sort(), [
      "20240229_235959",
      "20240229_235959_1",
      "20240229_235959_2",
      "20240229_235959_3",
      "20240229_235959_4",
      "20240229_235959_5",
      "20240229_235959_6",
      "20240229_235959_7",
    ]);
  });
});

Deno.test("createCheckpointDirectory: relative baseDir and cwd default give absolute paths", async () => {
  await withTempDir(async (base) => {
    const code =
      `const d = await wf.createCheckpointDirectory(undefined, { now: new Date(2020, 0, 1) });
const r = await wf.createCheckpointDirectory("sub", { now: new Date(2020, 0, 1) });
console.log(JSON.stringify([d, r]));`;
    const out = await child(
      code,
      [`--allow-read`, `--allow-write=${base}`],
      base,
    );
    assert.strictEqual(out.code, 0, out.stderr);
    const real = await Deno.realPath(base);
    assert.deepStrictEqual(JSON.parse(out.stdout), [
      join(real, "nlsq_checkpoints", "20200101_000000"),
      join(real, "sub", "nlsq_checkpoints", "20200101_000000"),
    ]);
  });
});

Deno.test("createCheckpointDirectory: missing permissions are NotCapable, never a prompt", async () => {
  await withTempDir(async (base) => {
    const code = `try {
  await wf.createCheckpointDirectory(${JSON.stringify(base)});
  console.log("created");
} catch (e) {
  console.log(e.name + ": " + e.message);
}`;
    const noWrite = await child(code, [`--allow-read=${base}`], base);
    assert.strictEqual(noWrite.code, 0, noWrite.stderr);
    assert.match(
      noWrite.stdout,
      /^NotCapable: .*needs write permission for .*nlsq_checkpoints/,
    );
    const noRead = await child(
      `try { await wf.createCheckpointDirectory(); } catch (e) { console.log(e.name + ": " + e.message); }`,
      [],
      base,
    );
    assert.match(
      noRead.stdout,
      /^NotCapable: .*read permission for the current directory/,
    );
    // Nothing was created.
    assert.deepStrictEqual([...Deno.readDirSync(base)], []);
  });
});

Deno.test("createCheckpointDirectory: the operating system's refusal is PermissionDenied", async () => {
  const denied = (e: unknown) =>
    e instanceof Deno.errors.PermissionDenied &&
    e.message.includes("cannot create checkpoint directory under") &&
    e.cause instanceof Deno.errors.PermissionDenied;
  if (Deno.build.os === "linux") {
    // sysfs refuses new directories even to root.
    await assert.rejects(() => createCheckpointDirectory("/sys"), denied);
    return;
  }
  await withTempDir(async (base) => {
    await Deno.chmod(base, 0o500);
    try {
      await assert.rejects(() => createCheckpointDirectory(base), denied);
    } finally {
      await Deno.chmod(base, 0o700);
    }
  });
});

Deno.test("createCheckpointDirectory: argument checks", async () => {
  await assert.rejects(() => createCheckpointDirectory(5 as never), TypeError);
  await assert.rejects(
    () => createCheckpointDirectory("/tmp", { now: new Date(NaN) }),
    /now must be a valid Date/,
  );
});
