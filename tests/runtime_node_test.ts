// The library under Node: `deno bundle` turns mod.ts into one ES module, and
// `node` fits a 400k-point model with it. That size takes the parallel CPU
// evaluator (worker threads, thread count from `node:os` where Node has no
// `navigator`) and the memory detection (`os.freemem`, `process.env`, cgroup
// files through `node:fs`); the parameters must match the same fit in Deno.

import assert from "node:assert";
import { dirname, join } from "node:path";
import { fit, model } from "../mod.ts";
import { ROOT } from "./_cli.ts";

const N = 400_000;
const EXPRESSION = "a * exp(-b * x) + c";
const P0 = [1, 1, 0];
const TRUE = [2, 1.3, 0.5];

/** `node --version`, or null when Node is not installed. */
function nodeVersion(): string | null {
  try {
    const out = new Deno.Command("node", {
      args: ["--version"],
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  } catch {
    return null;
  }
}

const NODE = nodeVersion();
if (NODE === null) {
  console.warn(
    "node_fit_test: `node` is not on PATH; the Node tests are skipped",
  );
}

/** Decaying exponential with a deterministic ripple (not an exact fit). */
function data(): { x: Float64Array; y: Float64Array } {
  const x = new Float64Array(N);
  const y = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    x[i] = (i / N) * 5;
    y[i] = TRUE[0] * Math.exp(-TRUE[1] * x[i]) + TRUE[2] +
      0.01 * Math.sin(i * 12.9898);
  }
  return { x, y };
}

// Runs under Node: reads x and y as raw float64, fits, then checks memory
// detection three ways (detected, cgroup fixture, environment override).
const NODE_SCRIPT = `
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fit, getAvailableMemoryInfo, model } from "./nlsq.mjs";

const [xFile, yFile, cgroupRoot, selfCgroupFile] = process.argv.slice(2);
const f64 = (file) => new Float64Array(new Uint8Array(readFileSync(file)).buffer);
const r = await fit(model(${
  JSON.stringify(EXPRESSION)
}), f64(xFile), f64(yFile), {
  p0: ${JSON.stringify(P0)},
});
const detected = getAvailableMemoryInfo();
const cgroup = getAvailableMemoryInfo({ cgroupRoot, selfCgroupFile });
process.env.NLSQ_MEMORY_LIMIT_GB = "3";
const override = getAvailableMemoryInfo();
console.log(JSON.stringify({
  popt: Array.from(r.popt),
  success: r.success,
  strategy: r.strategy,
  backend: r.backend,
  cores: availableParallelism(),
  detected,
  cgroup,
  override,
}));
`;

interface NodeRun {
  popt: number[];
  success: boolean;
  strategy: string;
  backend: string;
  cores: number;
  detected: { availableGb: number; source: string };
  cgroup: { availableGb: number; source: string };
  override: { availableGb: number; source: string };
}

async function bundle(outFile: string): Promise<void> {
  // The root module, and the memory detection the script reads (a subpath
  // export), as one entry point.
  const entry = join(dirname(outFile), "entry.ts");
  await Deno.writeTextFile(
    entry,
    `export * from ${JSON.stringify(join(ROOT, "mod.ts"))};\n` +
      `export { getAvailableMemoryInfo } from ${
        JSON.stringify(join(ROOT, "memory/available_memory.ts"))
      };\n`,
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--platform", "deno", "-o", outFile, entry],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(
    out.success,
    `deno bundle mod.ts failed:\n${new TextDecoder().decode(out.stderr)}`,
  );
}

async function runNode(dir: string, args: string[]): Promise<NodeRun> {
  const child = new Deno.Command("node", {
    args: [join(dir, "run.mjs"), ...args],
    cwd: dir,
    env: { NLSQ_MEMORY_LIMIT_GB: "", NLSQ_GPU_MEMORY_GB: "" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
  const out = await child.output();
  clearTimeout(timer);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.strictEqual(out.code, 0, `node exited with ${out.code}:\n${stderr}`);
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

Deno.test({
  name: `node ${NODE ?? "(absent)"}: a 400k-point fit matches Deno's to 1e-10`,
  ignore: NODE === null,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "nlsq_node_" });
    try {
      const { x, y } = data();
      await Deno.writeFile(join(dir, "x.f64"), new Uint8Array(x.buffer));
      await Deno.writeFile(join(dir, "y.f64"), new Uint8Array(y.buffer));
      // A cgroup v2 tree with a 1 GiB limit of which 0.25 GiB is in use.
      const cgroup = join(dir, "cgroup");
      await Deno.mkdir(cgroup);
      await Deno.writeTextFile(join(cgroup, "memory.max"), `${2 ** 30}\n`);
      await Deno.writeTextFile(join(cgroup, "memory.current"), `${2 ** 28}\n`);
      await Deno.writeTextFile(join(dir, "self_cgroup"), "0::/\n");
      await bundle(join(dir, "nlsq.mjs"));
      // npm dependencies (csv-parse, h5wasm, ...) are inside the bundle: Node
      // resolves nothing but its built-ins.
      const text = await Deno.readTextFile(join(dir, "nlsq.mjs"));
      for (const m of text.matchAll(/^import .* from "([^"]+)";$/gm)) {
        assert.ok(m[1].startsWith("node:"), `the bundle imports ${m[1]}`);
      }
      await Deno.writeTextFile(join(dir, "run.mjs"), NODE_SCRIPT);

      const node = await runNode(dir, [
        join(dir, "x.f64"),
        join(dir, "y.f64"),
        cgroup,
        join(dir, "self_cgroup"),
      ]);
      const deno = await fit(model(EXPRESSION), x, y, { p0: P0 });

      assert.ok(node.success && deno.success);
      assert.strictEqual(node.strategy, deno.strategy);
      // "auto" threads from os.availableParallelism() (Node 20 has no navigator).
      const threads = node.cores > 1 ? `${node.cores} threads` : "1 thread";
      assert.strictEqual(node.backend, `cpu (${threads}, f64)`);
      for (let i = 0; i < P0.length; i++) {
        assert.ok(
          Math.abs(node.popt[i] - deno.popt[i]) <= 1e-10,
          `popt[${i}]: node ${node.popt[i]} vs deno ${deno.popt[i]}`,
        );
        assert.ok(Math.abs(node.popt[i] - TRUE[i]) < 1e-4);
      }

      const meminfo = await Deno.readTextFile("/proc/meminfo").catch(() => "");
      const kb = /^MemAvailable:\s+(\d+)\s*kB/m.exec(meminfo);
      if (node.detected.source === "os.freemem" && kb !== null) {
        const gb = Number(kb[1]) / 2 ** 20;
        assert.ok(
          Math.abs(node.detected.availableGb - gb) < 0.1 * gb,
          `os.freemem ${node.detected.availableGb} GB vs MemAvailable ${gb} GB`,
        );
      } else {
        assert.match(node.detected.source, /^cgroup-v[12]$/);
      }
      assert.deepStrictEqual(node.cgroup, {
        ...node.cgroup,
        availableGb: 0.75,
        source: "cgroup-v2",
      });
      assert.deepStrictEqual(node.override, {
        ...node.override,
        availableGb: 3,
        source: "NLSQ_MEMORY_LIMIT_GB",
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
