/**
 * `deno task bench`: runs every benchmark section, prints Markdown tables and
 * writes `bench/results/<date>.json` and `.md`. Sections: engine (ours vs
 * scipy vs ml-levenberg-marquardt), workflow (standard vs chunked memory),
 * and the WebGPU, per-pass (against a C loop), streaming, distributed,
 * batch (fitBatch against a curve_fit loop), small (single fit and
 * curveFit calls against a curve_fit loop) and io (formats against numpy;
 * streamed fits against in-memory ones) sections where present.
 *
 * Options: `--quick` (sizes up to 1e5 only), `--only=engine,workflow,io`,
 * `--large` (the io section's fits of 1e8 points, 1.6 GB of NPY).
 */

import { parseArgs } from "node:util";
import { runEngineBench } from "./engine.ts";
import { runWorkflowBench } from "./workflow.ts";

type Row = Record<string, unknown>;

function table(rows: Row[]): string {
  if (rows.length === 0) return "(no rows)\n";
  const cols = Object.keys(rows[0]).filter((k) => k !== "section");
  const fmt = (v: unknown) =>
    typeof v === "number"
      ? (Number.isInteger(v)
        ? String(v)
        : Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3
        ? v.toExponential(2)
        : v.toFixed(3))
      : v === null || v === undefined
      ? "-"
      : String(v);
  return [
    `| ${cols.join(" | ")} |`,
    `|${cols.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${cols.map((c) => fmt(r[c])).join(" | ")} |`),
  ].join("\n") + "\n";
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean" },
    large: { type: "boolean" },
    only: { type: "string" },
  },
});
const only = values.only ? new Set(values.only.split(",")) : null;
const want = (s: string) => !only || only.has(s);
const sections: Record<string, Row[]> = {};
const machine =
  `${Deno.build.os}-${Deno.build.arch}, ${navigator.hardwareConcurrency} cores, ${
    (Deno.systemMemoryInfo().total / 2 ** 30).toFixed(0)
  } GiB, Deno ${Deno.version.deno}`;

if (want("engine")) {
  sections.engine = await runEngineBench(
    values.quick ? [1e3, 1e4, 1e5] : undefined,
  ) as unknown as Row[];
}
if (want("nist")) {
  const { runNistBench } = await import("./nist.ts");
  sections.nist = await runNistBench() as unknown as Row[];
}
if (want("workflow")) {
  sections.workflow = await runWorkflowBench(
    values.quick ? 500_000 : undefined,
  ) as unknown as Row[];
}
if (want("io")) {
  // Formats against numpy and the bytes' floor; streamed fits against
  // in-memory ones (1e8 points with --large).
  const { runIoBench } = await import("./io.ts");
  const r = await runIoBench({ quick: values.quick, large: values.large });
  sections.io = r.io as unknown as Row[];
  sections.io_fit = r.io_fit as unknown as Row[];
}
for (
  const [name, file, fn] of [
    ["webgpu", "./gpu.ts", "runGpuBench"],
    ["pass", "./pass.ts", "runPassBench"],
    ["streaming", "./streaming.ts", "runStreamingBench"],
    ["distributed", "./distributed.ts", "runDistributedBench"],
    ["batch", "./batch.ts", "runBatchBench"],
    ["small", "./small.ts", "runSmallBench"],
  ] as const
) {
  if (!want(name)) continue;
  try {
    const mod = await import(file);
    if (typeof mod[fn] === "function") {
      sections[name] = await mod[fn]({ quick: values.quick });
    }
  } catch (e) {
    const msg = (e as Error).message;
    if (/Module not found|Cannot find module/.test(msg)) continue;
    console.error(`bench section ${name} failed: ${msg}`);
  }
}

// Sections not run now keep their rows from an earlier run of the same day.
const date = new Date().toISOString().slice(0, 10);
const dir = new URL("./results/", import.meta.url);
await Deno.mkdir(dir, { recursive: true });
const jsonUrl = new URL(`${date}.json`, dir);
let previous: Record<string, Row[]> = {};
try {
  previous = JSON.parse(await Deno.readTextFile(jsonUrl)).sections ?? {};
} catch {
  // no earlier run today
}
const all: Record<string, Row[]> = { ...previous, ...sections };
let md = `# Benchmark results\n\nMachine: ${machine}\nDate: ${
  new Date().toISOString()
}\n\n`;
for (const [name, rows] of Object.entries(all)) {
  md += `## ${name}\n\n${table(rows)}\n`;
}
console.log(md);
await Deno.writeTextFile(
  jsonUrl,
  JSON.stringify({ machine, date, sections: all }, null, 2),
);
await Deno.writeTextFile(new URL(`${date}.md`, dir), md);
console.error(`wrote bench/results/${date}.json and .md`);
