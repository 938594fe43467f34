/**
 * Detection of the memory a fit may use: the counterpart of NLSQ's
 * `MemoryEstimator.get_available_memory_gb`. Every figure is in GB of 2^30
 * bytes, the unit of the specification's memory table.
 *
 * Detection never prompts for permissions: each source is used only when
 * `Deno.permissions.querySync` reports it granted, and the result says which
 * source won and why others were skipped. Under Node and Bun, which have no
 * `Deno` global, the same figures come from `node:os` (`freemem()`, the
 * operating system's available memory), `process.env` and the cgroup files
 * read with `node:fs`. A browser reports no memory figure, so there the
 * default ({@linkcode DEFAULT_AVAILABLE_MEMORY_GB}) applies.
 *
 * @module
 */

import {
  describeAdapter,
  probeAdapter as probeGpuAdapter,
} from "../gpu/device.ts";
import { hostRuntime, nodeBuiltin } from "../runtime/host.ts";
import {
  isDeno,
  mayRead,
  readCgroupMemoryLimit,
  readOptional,
} from "./_cgroup.ts";
import { canReadEnv, canReadSystemMemory } from "../runtime/permissions.ts";
import { assertBoolean, assertPositiveFinite } from "../workflow/_validate.ts";

const BYTES_PER_GB = 2 ** 30;

/**
 * Available CPU memory assumed when nothing can be measured (no `--allow-sys`,
 * no readable `/proc/meminfo`, no override): 4 GB, small enough to be safe on
 * laptops and CI runners, so a large fit is chunked rather than killed.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(DEFAULT_AVAILABLE_MEMORY_GB, 4);
 * ```
 */
export const DEFAULT_AVAILABLE_MEMORY_GB = 4;

/**
 * GPU memory assumed with `useGpu` before {@linkcode detectGpuMemoryGb} has
 * run and without `NLSQ_GPU_MEMORY_GB`: 2 GB. WebGPU does not report device
 * memory, and 2 GB is below what any WebGPU-capable discrete or integrated GPU
 * offers, so the budget errs towards chunking.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(DEFAULT_GPU_MEMORY_GB, 2);
 * ```
 */
export const DEFAULT_GPU_MEMORY_GB = 2;

/**
 * Environment variable that overrides the detected memory (in GB).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(MEMORY_LIMIT_ENV, "NLSQ_MEMORY_LIMIT_GB");
 * ```
 */
export const MEMORY_LIMIT_ENV = "NLSQ_MEMORY_LIMIT_GB";
/**
 * Environment variable that overrides the GPU memory figure (in GB).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(GPU_MEMORY_ENV, "NLSQ_GPU_MEMORY_GB");
 * ```
 */
export const GPU_MEMORY_ENV = "NLSQ_GPU_MEMORY_GB";

/**
 * Where an available-memory figure came from.
 *
 * - `memoryLimitGb`: the caller's option; `NLSQ_MEMORY_LIMIT_GB`: the
 *   environment override.
 * - `systemMemoryInfo` / `/proc/meminfo`: the operating system's available
 *   memory under Deno; `os.freemem`: the same under Node and Bun;
 *   `cgroup-v2` / `cgroup-v1`: a container limit that was tighter.
 * - `default`: nothing could be measured ({@linkcode DEFAULT_AVAILABLE_MEMORY_GB}).
 * - `NLSQ_GPU_MEMORY_GB`, `gpu-adapter` (WebGPU `maxBufferSize`, a lower bound
 *   of device memory), `gpu-default` ({@linkcode DEFAULT_GPU_MEMORY_GB}).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * const source: MemorySource = "cgroup-v2";
 * assert.strictEqual(source, "cgroup-v2");
 * ```
 */
export type MemorySource =
  | "memoryLimitGb"
  | "NLSQ_MEMORY_LIMIT_GB"
  | "systemMemoryInfo"
  | "/proc/meminfo"
  | "os.freemem"
  | "cgroup-v2"
  | "cgroup-v1"
  | "default"
  | "NLSQ_GPU_MEMORY_GB"
  | "gpu-adapter"
  | "gpu-default";

/**
 * Options of {@linkcode getAvailableMemoryInfo}.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * const options: AvailableMemoryOptions = { memoryLimitGb: 2 };
 * assert.strictEqual(getAvailableMemoryInfo(options).availableGb, 2);
 * ```
 */
export interface AvailableMemoryOptions {
  /** Take the GPU's usable memory into account (the minimum of CPU and GPU). */
  useGpu?: boolean;
  /** Use this figure instead of detecting anything. */
  memoryLimitGb?: number;
  /** Root of the cgroup file system (injectable for tests). Default `/sys/fs/cgroup`. */
  cgroupRoot?: string;
  /** The process's cgroup membership file. Default `/proc/self/cgroup`. */
  selfCgroupFile?: string;
  /** Fallback when `--allow-sys` is missing. Default `/proc/meminfo`. */
  meminfoFile?: string;
  /**
   * Detect again instead of using a figure detected in the last
   * {@linkcode MEMORY_CACHE_MS} ms (the default reuses it: the memory does
   * not change between two fits a microsecond apart, and detection costs
   * more than a small fit).
   */
  refresh?: boolean;
}

/**
 * How long a detected CPU memory figure is reused, in ms.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { MEMORY_CACHE_MS } from "@nlsq/nlsq/workflow";
 * assert.strictEqual(MEMORY_CACHE_MS, 2000);
 * ```
 */
export const MEMORY_CACHE_MS = 2000;

let cpuCache:
  | { at: number; gb: number; source: MemorySource; notes: string[] }
  | null = null;

/**
 * The available memory and an account of how it was found.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * const info: AvailableMemoryInfo = getAvailableMemoryInfo();
 * assert.ok(info.availableGb > 0 && info.notes.length >= 0);
 * ```
 */
export interface AvailableMemoryInfo {
  /** The memory a fit may use, in GB (2^30 bytes). */
  availableGb: number;
  /** The source of `availableGb`. */
  source: MemorySource;
  /** The CPU figure, or null when an override made detection unnecessary. */
  cpuGb: number | null;
  /** The source of `cpuGb`, or null with it. */
  cpuSource: MemorySource | null;
  /** The GPU figure when `useGpu` and it applies, otherwise null. */
  gpuGb: number | null;
  /** The source of `gpuGb`, or null with it. */
  gpuSource: MemorySource | null;
  /** Human-readable sentences: skipped sources and the reasons. */
  notes: string[];
}

type GpuProbe =
  | { kind: "none"; note: string }
  | { kind: "shared"; note: string }
  | { kind: "dedicated"; gb: number; note: string };

let gpuProbe: GpuProbe | undefined;

/**
 * Detects the memory available to a fit, like NLSQ's
 * `MemoryEstimator.get_available_memory_gb`, and explains the figure.
 *
 * Order: the `memoryLimitGb` option; else the `NLSQ_MEMORY_LIMIT_GB`
 * environment variable; else `Deno.systemMemoryInfo().available` (or
 * `MemAvailable` of `/proc/meminfo`, or {@linkcode DEFAULT_AVAILABLE_MEMORY_GB};
 * under Node and Bun `os.freemem()`) capped by the remaining allowance of a cgroup v2 or v1 memory limit. With
 * `useGpu`, the result is the minimum of that and the GPU figure
 * (`NLSQ_GPU_MEMORY_GB`, else the cached {@linkcode detectGpuMemoryGb} probe,
 * else {@linkcode DEFAULT_GPU_MEMORY_GB}). Overrides apply to the total.
 *
 * Needs no permissions: a source whose permission is not granted is skipped
 * with a note; nothing ever prompts.
 *
 * @example An override, and the detected figure
 * ```ts
 * import assert from "node:assert";
 * const fixed = getAvailableMemoryInfo({ memoryLimitGb: 8 });
 * assert.strictEqual(fixed.availableGb, 8);
 * assert.strictEqual(fixed.source, "memoryLimitGb");
 *
 * const detected = getAvailableMemoryInfo();
 * assert.ok(detected.availableGb > 0);
 * assert.strictEqual(typeof detected.source, "string");
 * ```
 *
 * @throws {RangeError} `memoryLimitGb`, `NLSQ_MEMORY_LIMIT_GB` or
 * `NLSQ_GPU_MEMORY_GB` is not a finite number > 0.
 */
export function getAvailableMemoryInfo(
  options: AvailableMemoryOptions = {},
): AvailableMemoryInfo {
  const useGpu = options.useGpu === undefined
    ? false
    : assertBoolean("useGpu", options.useGpu);
  const notes: string[] = [];
  if (options.memoryLimitGb !== undefined) {
    const gb = assertPositiveFinite("memoryLimitGb", options.memoryLimitGb);
    notes.push(`memoryLimitGb=${gb} overrides memory detection`);
    return override(gb, "memoryLimitGb", notes);
  }
  const envLimit = readEnvGb(MEMORY_LIMIT_ENV, notes);
  if (envLimit !== undefined) {
    notes.push(`${MEMORY_LIMIT_ENV}=${envLimit} overrides memory detection`);
    return override(envLimit, MEMORY_LIMIT_ENV, notes);
  }

  const cpu = cachedCpu(options, notes);
  let availableGb = cpu.gb;
  let source = cpu.source;
  let gpuGb: number | null = null;
  let gpuSource: MemorySource | null = null;
  if (useGpu) {
    const gpu = gpuFigure(notes);
    if (gpu !== null) {
      gpuGb = gpu.gb;
      gpuSource = gpu.source;
      if (gpu.gb < availableGb) {
        availableGb = gpu.gb;
        source = gpu.source;
      }
    }
  }
  return {
    availableGb,
    source,
    cpuGb: cpu.gb,
    cpuSource: cpu.source,
    gpuGb,
    gpuSource,
    notes,
  };
}

/**
 * The available memory in GB: `getAvailableMemoryInfo(options).availableGb`
 * (the seed's `MemoryEstimator.get_available_memory_gb`).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * assert.ok(getAvailableMemoryGb() > 0);
 * assert.strictEqual(getAvailableMemoryGb({ memoryLimitGb: 1.5 }), 1.5);
 * ```
 */
export function getAvailableMemoryGb(
  options: AvailableMemoryOptions = {},
): number {
  return getAvailableMemoryInfo(options).availableGb;
}

/**
 * Probes the WebGPU adapter once and caches what it says about GPU memory, so
 * that the synchronous {@linkcode getAvailableMemoryInfo} (and
 * `MemoryBudget.compute`) can use it with `useGpu`.
 *
 * WebGPU does not expose memory size. A software (fallback) adapter such as
 * lavapipe computes in system memory, so the CPU figure applies and the
 * result is the current CPU available memory. A hardware adapter's
 * `limits.maxBufferSize` is taken as a lower bound of its memory. Resolves to
 * null when there is no adapter (the fit then runs on the CPU).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * const gb = await detectGpuMemoryGb();
 * assert.ok(gb === null || gb > 0);
 * ```
 *
 * @param options `refresh: true` probes again instead of using the cache.
 */
export async function detectGpuMemoryGb(
  options: { refresh?: boolean } = {},
): Promise<number | null> {
  if (gpuProbe === undefined || options.refresh === true) {
    gpuProbe = await probeAdapter();
  }
  if (gpuProbe.kind === "none") return null;
  if (gpuProbe.kind === "shared") return detectCpu({}, []).gb;
  return gpuProbe.gb;
}

async function probeAdapter(): Promise<GpuProbe> {
  let adapter: GPUAdapter;
  try {
    adapter = await probeGpuAdapter();
  } catch (error) {
    return { kind: "none", note: (error as Error).message };
  }
  const { name, software } = describeAdapter(adapter);
  if (software) {
    return {
      kind: "shared",
      note: `software WebGPU adapter (${name}) computes in system memory`,
    };
  }
  const gb = adapter.limits.maxBufferSize / BYTES_PER_GB;
  return {
    kind: "dedicated",
    gb,
    note: `GPU memory from WebGPU maxBufferSize of ${name} (${
      gb.toFixed(2)
    } GB, a lower bound: WebGPU does not report device memory)`,
  };
}

function override(
  gb: number,
  source: MemorySource,
  notes: string[],
): AvailableMemoryInfo {
  return {
    availableGb: gb,
    source,
    cpuGb: null,
    cpuSource: null,
    gpuGb: null,
    gpuSource: null,
    notes,
  };
}

function readEnvGb(variable: string, notes: string[]): number | undefined {
  const text = readEnv(variable, notes);
  if (text === undefined || text.trim() === "") return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(
      `${variable} must be a finite number of GB > 0, got "${text}"`,
    );
  }
  return value;
}

/**
 * When each variable's read permission was last seen granted: asked again
 * after {@linkcode MEMORY_CACHE_MS} (the query costs more than the read).
 */
const envGrantedAt = new Map<string, number>();

function readEnv(variable: string, notes: string[]): string | undefined {
  if (!isDeno()) {
    return (globalThis as { process?: { env?: Record<string, string> } })
      .process?.env?.[variable];
  }
  const seen = envGrantedAt.get(variable);
  const now = performance.now();
  if (seen === undefined || now - seen >= MEMORY_CACHE_MS) {
    if (!canReadEnv(variable)) {
      envGrantedAt.delete(variable);
      notes.push(`${variable} not read: --allow-env=${variable} not granted`);
      return undefined;
    }
    envGrantedAt.set(variable, now);
    return Deno.env.get(variable);
  }
  try {
    return Deno.env.get(variable);
  } catch {
    // Revoked since it was seen granted: as the query would now say.
    envGrantedAt.delete(variable);
    notes.push(`${variable} not read: --allow-env=${variable} not granted`);
    return undefined;
  }
}

/**
 * The CPU figure, detected at most every {@linkcode MEMORY_CACHE_MS} ms for
 * the default locations (injected paths always detect).
 */
function cachedCpu(
  options: AvailableMemoryOptions,
  notes: string[],
): { gb: number; source: MemorySource } {
  const injected = options.cgroupRoot !== undefined ||
    options.selfCgroupFile !== undefined || options.meminfoFile !== undefined;
  const now = performance.now();
  if (
    !injected && options.refresh !== true && cpuCache &&
    now - cpuCache.at < MEMORY_CACHE_MS
  ) {
    notes.push(...cpuCache.notes);
    return cpuCache;
  }
  const own: string[] = [];
  const cpu = detectCpu(options, own);
  notes.push(...own);
  if (!injected) cpuCache = { at: now, ...cpu, notes: own };
  return cpu;
}

function detectCpu(
  options: AvailableMemoryOptions,
  notes: string[],
): { gb: number; source: MemorySource } {
  let gb: number;
  let source: MemorySource;
  const meminfoFile = options.meminfoFile ?? "/proc/meminfo";
  const fromMeminfo = () =>
    mayRead(meminfoFile) ? readMeminfoAvailable(meminfoFile) : undefined;
  let meminfo: number | undefined;
  const os = isDeno() ? undefined : nodeBuiltin("node:os");
  if (!isDeno() && os === undefined) {
    // A browser: no system figure, no cgroup files.
    notes.push(
      `a ${hostRuntime()} reports no system memory: assumed ${DEFAULT_AVAILABLE_MEMORY_GB} GB`,
    );
    return { gb: DEFAULT_AVAILABLE_MEMORY_GB, source: "default" };
  }
  if (os !== undefined) {
    gb = os.freemem() / BYTES_PER_GB;
    source = "os.freemem";
  } else if (canReadSystemMemory()) {
    gb = Deno.systemMemoryInfo().available / BYTES_PER_GB;
    source = "systemMemoryInfo";
  } else if ((meminfo = fromMeminfo()) !== undefined) {
    gb = meminfo;
    source = "/proc/meminfo";
    notes.push(
      `--allow-sys=systemMemoryInfo not granted: used MemAvailable of ${meminfoFile}`,
    );
  } else {
    gb = DEFAULT_AVAILABLE_MEMORY_GB;
    source = "default";
    notes.push(
      `system memory unknown (--allow-sys=systemMemoryInfo not granted and ${meminfoFile} not readable): assumed ${DEFAULT_AVAILABLE_MEMORY_GB} GB`,
    );
  }

  const cgroupRoot = options.cgroupRoot ?? "/sys/fs/cgroup";
  const cgroup = readCgroupMemoryLimit(
    cgroupRoot,
    options.selfCgroupFile ?? "/proc/self/cgroup",
  );
  notes.push(...cgroup.notes);
  if (cgroup.limit !== null) {
    const { version, limitBytes, usageBytes, remainingBytes, file } =
      cgroup.limit;
    const remainingGb = remainingBytes / BYTES_PER_GB;
    const described = `cgroup v${version} limit ${
      (limitBytes / BYTES_PER_GB).toFixed(3)
    } GB with ${(usageBytes / BYTES_PER_GB).toFixed(3)} GB in use (${file})`;
    if (remainingGb < gb) {
      notes.push(
        `${described} caps available memory at ${remainingGb.toFixed(3)} GB`,
      );
      gb = remainingGb;
      source = version === 2 ? "cgroup-v2" : "cgroup-v1";
    } else {
      notes.push(`${described} leaves more than the ${source} figure`);
    }
  }
  return { gb, source };
}

function readMeminfoAvailable(file: string): number | undefined {
  const text = readOptional(file);
  if (text === undefined) return undefined;
  const match = /^MemAvailable:\s+(\d+)\s*kB/m.exec(text);
  return match === null ? undefined : Number(match[1]) * 1024 / BYTES_PER_GB;
}

function gpuFigure(
  notes: string[],
): { gb: number; source: MemorySource } | null {
  const envGb = readEnvGb(GPU_MEMORY_ENV, notes);
  if (envGb !== undefined) {
    notes.push(`${GPU_MEMORY_ENV}=${envGb} sets the GPU memory`);
    return { gb: envGb, source: GPU_MEMORY_ENV };
  }
  if (gpuProbe === undefined) {
    notes.push(
      `GPU memory not probed (await detectGpuMemoryGb() first, or set ${GPU_MEMORY_ENV}): assumed ${DEFAULT_GPU_MEMORY_GB} GB`,
    );
    return { gb: DEFAULT_GPU_MEMORY_GB, source: "gpu-default" };
  }
  notes.push(gpuProbe.note);
  if (gpuProbe.kind === "dedicated") {
    return { gb: gpuProbe.gb, source: "gpu-adapter" };
  }
  // No adapter: the fit runs on the CPU. Software adapter: it shares the CPU
  // figure already counted. Either way the GPU adds no limit of its own.
  return null;
}
