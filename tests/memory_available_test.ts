import assert from "node:assert";
import { join } from "node:path";
import {
  type AvailableMemoryInfo,
  DEFAULT_AVAILABLE_MEMORY_GB,
  DEFAULT_GPU_MEMORY_GB,
  detectGpuMemoryGb,
  getAvailableMemoryGb,
  getAvailableMemoryInfo,
} from "../workflow/mod.ts";

const GB = 2 ** 30;
const MOD = new URL("../workflow/mod.ts", import.meta.url).href;

/** Runs `getAvailableMemoryInfo(options)` in a fresh `deno run` with `flags`. */
async function childInfo(
  flags: string[],
  options: Record<string, unknown> = {},
  env: Record<string, string> = {},
): Promise<{ code: number; info?: AvailableMemoryInfo; stderr: string }> {
  const script = `import { getAvailableMemoryInfo } from "${MOD}";
console.log(JSON.stringify(getAvailableMemoryInfo(${
    JSON.stringify(options)
  })));`;
  const process = new Deno.Command(Deno.execPath(), {
    // --no-prompt: a permission request would fail the child instead of
    // blocking, so a zero exit status proves nothing asked.
    args: ["run", "--no-prompt", "--no-config", ...flags, "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: {
      NLSQ_MEMORY_LIMIT_GB: "",
      NLSQ_GPU_MEMORY_GB: "",
      NO_COLOR: "1",
      ...env,
    },
  }).spawn();
  const writer = process.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const { code, stdout, stderr } = await process.output();
  const text = new TextDecoder().decode(stdout).trim();
  return {
    code,
    info: code === 0 ? JSON.parse(text) : undefined,
    stderr: new TextDecoder().decode(stderr),
  };
}

function systemGb(): number {
  return Deno.systemMemoryInfo().available / GB;
}

function near(actual: number, expected: number, rel = 0.1): void {
  assert.ok(
    Math.abs(actual - expected) <= rel * expected,
    `${actual} not within ${rel * 100}% of ${expected}`,
  );
}

/** A fake cgroup tree: `files` maps paths under the root to contents. */
async function fixture(files: Record<string, string>): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "nlsq_cgroup_" });
  for (const [path, text] of Object.entries(files)) {
    const full = join(root, path);
    await Deno.mkdir(join(full, ".."), { recursive: true });
    await Deno.writeTextFile(full, text);
  }
  return root;
}

async function withFixture(
  files: Record<string, string>,
  fn: (root: string) => void | Promise<void>,
): Promise<void> {
  const root = await fixture(files);
  try {
    await fn(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

const cgroupOptions = (root: string) => ({
  cgroupRoot: root,
  selfCgroupFile: join(root, "self_cgroup"),
});

Deno.test("cgroup v2: memory.max minus memory.current caps the system figure", async () => {
  await withFixture({
    "self_cgroup": "0::/\n",
    "memory.max": `${GB}\n`,
    "memory.current": `${GB / 4}\n`,
  }, (root) => {
    const info = getAvailableMemoryInfo(cgroupOptions(root));
    assert.strictEqual(info.availableGb, 0.75);
    assert.strictEqual(info.source, "cgroup-v2");
    assert.strictEqual(info.cpuSource, "cgroup-v2");
    assert.ok(info.notes.some((n) => n.includes(join(root, "memory.max"))));
  });
});

Deno.test("cgroup v2: 'max' means no limit", async () => {
  await withFixture({
    "self_cgroup": "0::/\n",
    "memory.max": "max\n",
    "memory.current": "123\n",
  }, (root) => {
    const info = getAvailableMemoryInfo(cgroupOptions(root));
    assert.strictEqual(info.source, "systemMemoryInfo");
    near(info.availableGb, systemGb());
    assert.ok(!info.notes.some((n) => n.includes("cgroup")));
  });
});

Deno.test("cgroup v2: the process's own nested cgroup is read", async () => {
  await withFixture({
    "self_cgroup": "0::/job/step\n",
    "memory.max": "max\n",
    "job/step/memory.max": `${GB / 2}\n`,
    "job/step/memory.current": "0\n",
  }, (root) => {
    const info = getAvailableMemoryInfo(cgroupOptions(root));
    assert.strictEqual(info.availableGb, 0.5);
    assert.strictEqual(info.source, "cgroup-v2");
  });
});

Deno.test("cgroup: the tightest of the own and root limits wins", async () => {
  await withFixture({
    "self_cgroup": "0::/job\n",
    "memory.max": `${GB}\n`,
    "memory.current": "0\n",
    "job/memory.max": `${2 * GB}\n`,
    "job/memory.current": "0\n",
  }, (root) => {
    assert.strictEqual(getAvailableMemoryGb(cgroupOptions(root)), 1);
  });
});

Deno.test("cgroup v1: limit_in_bytes minus usage_in_bytes; LONG_MAX is no limit", async () => {
  await withFixture({
    "self_cgroup": "9:name=systemd:/\n4:memory:/pa/x\n0::/\n",
    "memory/memory.limit_in_bytes": "9223372036854771712\n",
    "memory/memory.usage_in_bytes": "440954880\n",
    "memory/pa/x/memory.limit_in_bytes": `${2 * GB}\n`,
    "memory/pa/x/memory.usage_in_bytes": `${1.5 * GB}\n`,
  }, (root) => {
    const info = getAvailableMemoryInfo(cgroupOptions(root));
    assert.strictEqual(info.availableGb, 0.5);
    assert.strictEqual(info.source, "cgroup-v1");
  });
  await withFixture({
    "self_cgroup": "4:memory:/\n",
    "memory/memory.limit_in_bytes": "9223372036854771712\n",
    "memory/memory.usage_in_bytes": "440954880\n",
  }, (root) => {
    assert.strictEqual(
      getAvailableMemoryInfo(cgroupOptions(root)).source,
      "systemMemoryInfo",
    );
  });
});

Deno.test("cgroup: usage above the limit leaves 0; garbage is ignored with a note", async () => {
  await withFixture({
    "memory.max": `${GB}\n`,
    "memory.current": `${2 * GB}\n`,
  }, (root) => {
    // No self file at all: the root limit still applies.
    const info = getAvailableMemoryInfo({
      cgroupRoot: root,
      selfCgroupFile: join(root, "missing"),
    });
    assert.strictEqual(info.availableGb, 0);
    assert.strictEqual(info.source, "cgroup-v2");
  });
  await withFixture(
    { "self_cgroup": "0::/\n", "memory.max": "lots\n" },
    (root) => {
      const info = getAvailableMemoryInfo(cgroupOptions(root));
      assert.strictEqual(info.source, "systemMemoryInfo");
      assert.ok(info.notes.some((n) => /unparseable.*"lots"/.test(n)));
    },
  );
});

Deno.test("cgroup: a limit above the system figure does not raise it", async () => {
  await withFixture({
    "self_cgroup": "0::/\n",
    "memory.max": `${2 ** 50}\n`,
    "memory.current": "0\n",
  }, (root) => {
    const info = getAvailableMemoryInfo(cgroupOptions(root));
    assert.strictEqual(info.source, "systemMemoryInfo");
    near(info.availableGb, systemGb());
    assert.ok(info.notes.some((n) => n.includes("leaves more")));
  });
});

Deno.test("overrides: option beats NLSQ_MEMORY_LIMIT_GB beats detection", () => {
  const previous = Deno.env.get("NLSQ_MEMORY_LIMIT_GB");
  try {
    Deno.env.set("NLSQ_MEMORY_LIMIT_GB", "6.5");
    const env = getAvailableMemoryInfo();
    assert.strictEqual(env.availableGb, 6.5);
    assert.strictEqual(env.source, "NLSQ_MEMORY_LIMIT_GB");
    assert.strictEqual(env.cpuGb, null);
    const option = getAvailableMemoryInfo({ memoryLimitGb: 3 });
    assert.strictEqual(option.availableGb, 3);
    assert.strictEqual(option.source, "memoryLimitGb");
    for (const bad of ["abc", "-2", "0", "Infinity"]) {
      Deno.env.set("NLSQ_MEMORY_LIMIT_GB", bad);
      assert.throws(
        () => getAvailableMemoryInfo(),
        (e: unknown) =>
          e instanceof RangeError && e.message.includes("NLSQ_MEMORY_LIMIT_GB"),
        bad,
      );
    }
  } finally {
    if (previous === undefined) Deno.env.delete("NLSQ_MEMORY_LIMIT_GB");
    else Deno.env.set("NLSQ_MEMORY_LIMIT_GB", previous);
  }
  for (const bad of [0, -1, NaN, Infinity]) {
    assert.throws(
      () => getAvailableMemoryInfo({ memoryLimitGb: bad }),
      /memoryLimitGb/,
    );
  }
  assert.throws(() => getAvailableMemoryInfo({ useGpu: 1 as never }), /useGpu/);
});

Deno.test("useGpu with NLSQ_GPU_MEMORY_GB: the smaller of CPU and GPU wins", () => {
  const previous = Deno.env.get("NLSQ_GPU_MEMORY_GB");
  try {
    Deno.env.set("NLSQ_GPU_MEMORY_GB", "0.5");
    const small = getAvailableMemoryInfo({ useGpu: true });
    assert.strictEqual(small.availableGb, 0.5);
    assert.strictEqual(small.source, "NLSQ_GPU_MEMORY_GB");
    assert.strictEqual(small.gpuGb, 0.5);
    assert.ok(small.cpuGb !== null && small.cpuGb > 0.5);
    Deno.env.set("NLSQ_GPU_MEMORY_GB", "1000000");
    const large = getAvailableMemoryInfo({ useGpu: true });
    assert.strictEqual(large.gpuGb, 1e6);
    assert.strictEqual(large.availableGb, large.cpuGb);
    assert.strictEqual(large.source, large.cpuSource);
    // Without useGpu the GPU figure is not consulted at all.
    assert.strictEqual(getAvailableMemoryInfo().gpuGb, null);
  } finally {
    if (previous === undefined) Deno.env.delete("NLSQ_GPU_MEMORY_GB");
    else Deno.env.set("NLSQ_GPU_MEMORY_GB", previous);
  }
});

Deno.test("no permissions: the default figure and notes, no prompt", async () => {
  const { code, info, stderr } = await childInfo([]);
  assert.strictEqual(code, 0, stderr);
  assert.ok(info);
  assert.strictEqual(info.availableGb, DEFAULT_AVAILABLE_MEMORY_GB);
  assert.strictEqual(info.source, "default");
  const notes = info.notes.join("\n");
  assert.match(notes, /--allow-sys=systemMemoryInfo not granted/);
  assert.match(notes, /cgroup memory limit not checked/);
  assert.match(notes, /NLSQ_MEMORY_LIMIT_GB not read/);
});

Deno.test("--allow-sys only: the system figure, cgroup skipped with a note", async () => {
  const { code, info, stderr } = await childInfo([
    "--allow-sys=systemMemoryInfo",
  ]);
  assert.strictEqual(code, 0, stderr);
  assert.ok(info);
  assert.strictEqual(info.source, "systemMemoryInfo");
  near(info.availableGb, systemGb());
  assert.match(info.notes.join("\n"), /cgroup memory limit not checked/);
});

Deno.test("--allow-env for the override only: the environment figure", async () => {
  const { code, info, stderr } = await childInfo(
    ["--allow-env=NLSQ_MEMORY_LIMIT_GB"],
    {},
    { NLSQ_MEMORY_LIMIT_GB: "3.5" },
  );
  assert.strictEqual(code, 0, stderr);
  assert.ok(info);
  assert.strictEqual(info.availableGb, 3.5);
  assert.strictEqual(info.source, "NLSQ_MEMORY_LIMIT_GB");
  const bad = await childInfo(
    ["--allow-env=NLSQ_MEMORY_LIMIT_GB"],
    {},
    { NLSQ_MEMORY_LIMIT_GB: "lots" },
  );
  assert.notStrictEqual(bad.code, 0);
  assert.match(bad.stderr, /RangeError: NLSQ_MEMORY_LIMIT_GB must be/);
});

Deno.test("read access only: /proc/meminfo fallback, capped by a readable cgroup", async () => {
  await withFixture({
    "meminfo":
      "MemTotal: 8388608 kB\nMemFree: 1 kB\nMemAvailable: 2097152 kB\n",
    "self_cgroup": "0::/\n",
    "memory.max": "max\n",
  }, async (root) => {
    const options = {
      ...cgroupOptions(root),
      meminfoFile: join(root, "meminfo"),
    };
    const { code, info, stderr } = await childInfo(
      [`--allow-read=${root}`],
      options,
    );
    assert.strictEqual(code, 0, stderr);
    assert.ok(info);
    assert.strictEqual(info.availableGb, 2);
    assert.strictEqual(info.source, "/proc/meminfo");
    assert.match(info.notes.join("\n"), /used MemAvailable/);

    await Deno.writeTextFile(join(root, "memory.max"), `${GB}\n`);
    const capped = await childInfo([`--allow-read=${root}`], options);
    assert.strictEqual(capped.info?.availableGb, 1);
    assert.strictEqual(capped.info?.source, "cgroup-v2");
  });
});

Deno.test("useGpu before any probe: the conservative GPU default", async () => {
  const { code, info, stderr } = await childInfo(
    ["--allow-sys=systemMemoryInfo"],
    { useGpu: true },
  );
  assert.strictEqual(code, 0, stderr);
  assert.ok(info);
  assert.strictEqual(info.gpuGb, DEFAULT_GPU_MEMORY_GB);
  assert.strictEqual(info.gpuSource, "gpu-default");
  assert.strictEqual(
    info.availableGb,
    Math.min(DEFAULT_GPU_MEMORY_GB, info.cpuGb!),
  );
  assert.match(info.notes.join("\n"), /await detectGpuMemoryGb\(\)/);
  const env = await childInfo(
    ["--allow-sys=systemMemoryInfo", "--allow-env=NLSQ_GPU_MEMORY_GB"],
    { useGpu: true },
    { NLSQ_GPU_MEMORY_GB: "1.25" },
  );
  assert.strictEqual(env.info?.availableGb, 1.25);
  assert.strictEqual(env.info?.source, "NLSQ_GPU_MEMORY_GB");
});

Deno.test("all permissions: detection without fallback notes", async () => {
  const { code, info, stderr } = await childInfo(["-A"]);
  assert.strictEqual(code, 0, stderr);
  assert.ok(info);
  assert.notStrictEqual(info.source, "default");
  assert.ok(!info.notes.some((n) => n.includes("not granted")));
  assert.ok(info.availableGb > 0 && info.availableGb <= systemGb() * 1.1);
});

Deno.test("detectGpuMemoryGb caches the probe used by useGpu", async () => {
  const gb = await detectGpuMemoryGb();
  const info = getAvailableMemoryInfo({ useGpu: true });
  const notes = info.notes.join("\n");
  assert.ok(!notes.includes("not probed"));
  if (gb === null) {
    // No adapter: the fit runs on the CPU, the GPU adds no limit.
    assert.strictEqual(info.gpuGb, null);
    assert.match(notes, /adapter|WebGPU/);
  } else if (info.gpuSource === "gpu-adapter") {
    assert.strictEqual(info.gpuGb, gb);
    assert.strictEqual(info.availableGb, Math.min(gb, info.cpuGb!));
  } else {
    // Software adapter (lavapipe): it computes in system memory.
    assert.strictEqual(info.gpuGb, null);
    assert.match(notes, /software WebGPU adapter/);
    near(gb, info.cpuGb!);
  }
  assert.strictEqual(
    await detectGpuMemoryGb({ refresh: true }) === null,
    gb === null,
  );
});
