/**
 * `nlsq info`: what this machine offers a fit: the Deno version, detected
 * memory and cgroup limit, the WebGPU adapter, the cluster allocation and the
 * MPI library. Works with no permissions at all: every probe checks its
 * permission first (never prompting) and reports what it could not read.
 *
 * @module
 */

import denoJson from "../deno.json" with { type: "json" };
import { getAvailableMemoryInfo } from "../memory/available_memory.ts";
import { readCgroupMemoryLimit } from "../memory/_cgroup.ts";
import { ClusterDetector } from "../cluster/cluster_detector.ts";
import { isMpiLaunch, Mpi } from "../cluster/mpi.ts";
import {
  formatHelp,
  type OptionSpec,
  parseCommandArgs,
  parseNumber,
} from "./args.ts";
import { type CliIo, defaultIo } from "./io.ts";

const OPTIONS: Record<string, OptionSpec> = {
  json: { type: "boolean", help: "print one JSON object" },
  "no-gpu": { type: "boolean", help: "skip the WebGPU probe" },
  "gpu-timeout": {
    type: "string",
    arg: "S",
    help: "give up on the WebGPU adapter after S seconds (default 20)",
  },
};

/** The help text of `nlsq info`. */
export const INFO_HELP: string = formatHelp(
  "nlsq info [--json]",
  [
    "Shows the Deno version, detected memory and cgroup limit, the WebGPU",
    "adapter (software or hardware, f64), the cluster allocation (PBS, Slurm,",
    "local GPUs) and the MPI library. Runs without permissions too: what",
    "could not be read is said so (run with -A to see everything).",
  ].join("\n"),
  OPTIONS,
);

/** Everything `nlsq info` reports. */
export interface InfoReport {
  /** Package version. */
  nlsq: string;
  /** `Deno.version`. */
  deno: { deno: string; v8: string; typescript: string };
  /** OS, architecture and logical CPUs. */
  platform: { os: string; arch: string; cpus: number | null };
  /** State of each permission (granted, prompt, denied). */
  permissions: Record<string, string>;
  /** Memory detection. */
  memory: {
    availableGb: number | null;
    source: string | null;
    totalGb: number | null;
    freeGb: number | null;
    cgroup:
      | { version: number; limitGb: number; usageGb: number; file: string }
      | null;
    notes: string[];
  };
  /** The WebGPU adapter, or why there is none. */
  webgpu: {
    available: boolean;
    adapter: string | null;
    software: boolean | null;
    f64: boolean | null;
    maxBufferSize: number | null;
    maxStorageBufferBindingSize: number | null;
    error: string | null;
  };
  /** The allocation `ClusterDetector.detect()` found. */
  cluster: { detected: Record<string, unknown> | null; diagnostics: string[] };
  /** The MPI library and launch. */
  mpi: {
    launched: boolean;
    library: string | null;
    flavor: string | null;
    error: string | null;
  };
}

const GB = 2 ** 30;
const PERMISSIONS = ["read", "write", "env", "sys", "ffi", "run", "net"];

function query(desc: Deno.PermissionDescriptor): string {
  try {
    return Deno.permissions.querySync(desc).state;
  } catch {
    return "unknown";
  }
}

const message = (e: unknown) =>
  (e instanceof Error ? e.message : String(e)).split("\n")[0];

async function probeGpu(
  timeoutMs: number,
): Promise<InfoReport["webgpu"]> {
  const none = {
    available: false,
    adapter: null,
    software: null,
    f64: null,
    maxBufferSize: null,
    maxStorageBufferBindingSize: null,
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const { getGpuInfo } = await import("../gpu/device.ts");
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
    });
    const info = await Promise.race([getGpuInfo(), timeout]);
    return {
      available: true,
      adapter: info.adapterName,
      software: info.software,
      f64: info.f64,
      maxBufferSize: info.limits.maxBufferSize,
      maxStorageBufferBindingSize: info.limits.maxStorageBufferBindingSize,
      error: null,
    };
  } catch (e) {
    return { ...none, error: message(e) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Probes the machine. Never throws and never prompts for a permission.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const info = await collectInfo({ gpu: false });
 * assert.strictEqual(info.deno.deno, Deno.version.deno);
 * assert.ok(info.memory.availableGb === null || info.memory.availableGb > 0);
 * assert.strictEqual(info.webgpu.available, false);
 * ```
 *
 * @param options `gpu: false` skips the WebGPU probe; `gpuTimeoutMs` bounds it.
 */
export async function collectInfo(
  options: { gpu?: boolean; gpuTimeoutMs?: number } = {},
): Promise<InfoReport> {
  const permissions: Record<string, string> = {};
  for (const name of PERMISSIONS) {
    permissions[name] = query({ name } as Deno.PermissionDescriptor);
  }

  const memory: InfoReport["memory"] = {
    availableGb: null,
    source: null,
    totalGb: null,
    freeGb: null,
    cgroup: null,
    notes: [],
  };
  try {
    const m = getAvailableMemoryInfo();
    memory.availableGb = m.availableGb;
    memory.source = m.source;
    memory.notes.push(...m.notes);
  } catch (e) {
    memory.notes.push(`memory detection failed: ${message(e)}`);
  }
  if (query({ name: "sys", kind: "systemMemoryInfo" }) === "granted") {
    try {
      const s = Deno.systemMemoryInfo();
      memory.totalGb = s.total / GB;
      memory.freeGb = s.available / GB;
    } catch (e) {
      memory.notes.push(`Deno.systemMemoryInfo failed: ${message(e)}`);
    }
  } else {
    memory.notes.push(
      "total memory not read: needs --allow-sys (systemMemoryInfo)",
    );
  }
  try {
    const c = readCgroupMemoryLimit("/sys/fs/cgroup", "/proc/self/cgroup");
    if (c.limit) {
      memory.cgroup = {
        version: c.limit.version,
        limitGb: c.limit.limitBytes / GB,
        usageGb: c.limit.usageBytes / GB,
        file: c.limit.file,
      };
    }
    for (const n of c.notes) {
      if (!memory.notes.includes(n)) memory.notes.push(n);
    }
  } catch (e) {
    memory.notes.push(`cgroup limit not read: ${message(e)}`);
  }

  const webgpu: InfoReport["webgpu"] = options.gpu === false
    ? {
      available: false,
      adapter: null,
      software: null,
      f64: null,
      maxBufferSize: null,
      maxStorageBufferBindingSize: null,
      error: "not probed (--no-gpu)",
    }
    : await probeGpu(options.gpuTimeoutMs ?? 20_000);

  const cluster: InfoReport["cluster"] = { detected: null, diagnostics: [] };
  try {
    // The WebGPU adapter was probed above; the detector need not ask again.
    const detector = new ClusterDetector({ webgpu: false });
    const found = await detector.detect();
    cluster.detected = found ? { ...found.toJSON() } : null;
    cluster.diagnostics.push(...detector.diagnostics);
  } catch (e) {
    cluster.diagnostics.push(`cluster detection failed: ${message(e)}`);
  }

  const mpi: InfoReport["mpi"] = {
    launched: isMpiLaunch(),
    library: null,
    flavor: null,
    error: null,
  };
  try {
    // Loading the library is a dlopen only; MPI_Init is never called here.
    const comm = Mpi.load();
    mpi.library = comm.libraryPath;
    mpi.flavor = comm.flavor;
  } catch (e) {
    mpi.error = message(e);
  }

  let cpus: number | null = null;
  try {
    cpus = navigator.hardwareConcurrency ?? null;
  } catch {
    cpus = null;
  }
  return {
    nlsq: denoJson.version,
    deno: { ...Deno.version },
    platform: { os: Deno.build.os, arch: Deno.build.arch, cpus },
    permissions,
    memory,
    webgpu,
    cluster,
    mpi,
  };
}

const gb = (v: number | null) => (v === null ? "?" : `${v.toFixed(2)} GB`);

/**
 * Formats an {@linkcode InfoReport} as text.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const text = formatInfo(await collectInfo({ gpu: false }));
 * assert.match(text, /\[\[Memory\]\]/);
 * assert.match(text, new RegExp(`Deno +${Deno.version.deno}`));
 * ```
 */
export function formatInfo(info: InfoReport): string {
  const lines: string[] = [`nlsq ${info.nlsq}`];
  const section = (t: string) => lines.push(`[[${t}]]`);
  const kv = (k: string, v: string) => lines.push(`    ${k.padEnd(19)}${v}`);

  section("Runtime");
  kv(
    "Deno",
    `${info.deno.deno} (V8 ${info.deno.v8}, TypeScript ${info.deno.typescript})`,
  );
  kv(
    "platform",
    `${info.platform.os} ${info.platform.arch}, ${
      info.platform.cpus ?? "?"
    } logical CPUs`,
  );
  kv(
    "permissions",
    Object.entries(info.permissions).map(([k, v]) => `${k} ${v}`).join(", "),
  );

  section("Memory");
  const m = info.memory;
  kv(
    "available",
    m.availableGb === null
      ? "could not be detected"
      : `${gb(m.availableGb)} (from ${m.source})`,
  );
  kv(
    "system",
    m.totalGb === null
      ? "not read (needs --allow-sys)"
      : `${gb(m.totalGb)} total, ${gb(m.freeGb)} available`,
  );
  kv(
    "cgroup limit",
    m.cgroup
      ? `${gb(m.cgroup.limitGb)} (cgroup v${m.cgroup.version}, ${
        gb(m.cgroup.usageGb)
      } used, ${m.cgroup.file})`
      : m.notes.some((n) => /cgroup.*not (checked|granted)/.test(n))
      ? "not checked (needs --allow-read=/sys/fs/cgroup,/proc/self/cgroup)"
      : "none found",
  );
  for (const note of m.notes) kv("note", note);

  section("WebGPU");
  const g = info.webgpu;
  if (g.available) {
    kv(
      "adapter",
      `${g.adapter} (${g.software ? "software, runs on the CPU" : "hardware"})`,
    );
    kv(
      "shader-f64",
      g.f64 ? "yes (double precision)" : "no (f32 with compensated sums)",
    );
    const mib = (v: number | null) =>
      v === null ? "?" : `${Math.round(v / 2 ** 20)} MiB`;
    kv(
      "limits",
      `max buffer ${mib(g.maxBufferSize)}, max storage binding ${
        mib(g.maxStorageBufferBindingSize)
      }`,
    );
  } else {
    kv("adapter", `none: ${g.error ?? "unavailable"}`);
  }

  section("Cluster");
  const c = info.cluster.detected;
  if (c) {
    kv("scheduler", `${c.scheduler}${c.jobId ? ` (job ${c.jobId})` : ""}`);
    kv(
      "nodes",
      `${c.nodeCount}${
        Array.isArray(c.nodeList) && c.nodeList.length > 0
          ? ` (${(c.nodeList as string[]).slice(0, 8).join(", ")}${
            c.nodeList.length > 8 ? ", ..." : ""
          })`
          : ""
      }`,
    );
    kv("GPUs", `${c.totalGpus} (${c.gpusPerNode} per node)`);
    kv("interconnect", `${c.interconnect}`);
    if (c.partial) kv("partial", "yes (some sources could not be read)");
  } else {
    kv("scheduler", "none detected (no PBS or Slurm job, no hardware GPU)");
  }
  for (const d of info.cluster.diagnostics) kv("note", d);

  section("MPI");
  kv("launched by MPI", info.mpi.launched ? "yes" : "no");
  kv(
    "library",
    info.mpi.library
      ? `${info.mpi.library} (${info.mpi.flavor})`
      : `not loaded: ${info.mpi.error}`,
  );
  return lines.join("\n") + "\n";
}

/**
 * Runs `nlsq info` and returns the exit code (0).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const out: string[] = [];
 * const code = await infoCommand(["--json", "--no-gpu"], {
 *   out: (s) => out.push(s),
 *   err: () => {},
 * });
 * assert.strictEqual(code, 0);
 * assert.strictEqual(JSON.parse(out.join("")).deno.deno, Deno.version.deno);
 * ```
 *
 * @param args Arguments after `info`.
 * @param io Where output goes.
 */
export async function infoCommand(
  args: readonly string[],
  io: CliIo = defaultIo,
): Promise<number> {
  const o = parseCommandArgs("info", args, OPTIONS);
  if (o.help) {
    io.out(INFO_HELP);
    return 0;
  }
  const timeout = typeof o["gpu-timeout"] === "string"
    ? parseNumber("--gpu-timeout", o["gpu-timeout"], { positive: true })
    : 20;
  const info = await collectInfo({
    gpu: o["no-gpu"] !== true,
    gpuTimeoutMs: timeout * 1000,
  });
  io.out(o.json ? JSON.stringify(info, null, 2) + "\n" : formatInfo(info));
  return 0;
}
