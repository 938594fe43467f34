/**
 * WebGPU device acquisition: one shared device per process, with the limits
 * the adapter allows and `shader-f64` when the backend grants it, replaced by
 * a fresh device after a loss.
 *
 * @module
 */

import { GpuDeviceLostError, GpuUnavailableError } from "./errors.ts";

/** The device limits the backend relies on (as granted to the device). */
export interface GpuLimits {
  /** Largest storage buffer binding, in bytes. */
  readonly maxStorageBufferBindingSize: number;
  /** Largest buffer, in bytes. */
  readonly maxBufferSize: number;
  /** Largest workgroup size in x. */
  readonly maxComputeWorkgroupSizeX: number;
  /** Largest number of invocations per workgroup. */
  readonly maxComputeInvocationsPerWorkgroup: number;
  /** Largest number of workgroups per dispatch dimension. */
  readonly maxComputeWorkgroupsPerDimension: number;
  /** Workgroup (shared) memory per workgroup, in bytes. */
  readonly maxComputeWorkgroupStorageSize: number;
  /** Storage buffers per shader stage. */
  readonly maxStorageBuffersPerShaderStage: number;
}

/** What was found: reported in fit results and by `nlsq info`. */
export interface GpuInfo {
  /** The adapter's description (or vendor / architecture when empty). */
  readonly adapterName: string;
  /** True for a software adapter (lavapipe, SwiftShader, WARP). */
  readonly software: boolean;
  /** True when the device was granted `shader-f64` (double precision). */
  readonly f64: boolean;
  /** The limits granted to the device. */
  readonly limits: GpuLimits;
}

/** A device with its description; `lost` turns true when the device is lost. */
export interface GpuContext {
  /** The WebGPU device. */
  readonly device: GPUDevice;
  /** What the adapter and device offer. */
  readonly info: GpuInfo;
  /** True once the device has been lost or destroyed. */
  readonly lost: boolean;
  /**
   * Settles when the device is lost, with the typed error a call that was
   * using it should throw (never rejects).
   */
  readonly whenLost: Promise<GpuDeviceLostError>;
}

/** Options of {@linkcode acquireDevice}. */
export interface AcquireDeviceOptions {
  /** Passed to `requestAdapter` (default: none). */
  readonly powerPreference?: GPUPowerPreference;
  /** Do not request `shader-f64` even where it is available (tests, f32). */
  readonly disableF64?: boolean;
}

const LIMIT_NAMES = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupSizeX",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupsPerDimension",
  "maxComputeWorkgroupStorageSize",
  "maxStorageBuffersPerShaderStage",
] as const;

// Adapters that compute on the CPU: Mesa's (lavapipe, llvmpipe, softpipe),
// SwiftShader (Chromium), Microsoft's WARP / Basic Render Driver.
const SOFTWARE_NAMES =
  /llvmpipe|lavapipe|softpipe|swiftshader|warp|software|microsoft basic render/i;

let current: Promise<GpuContext> | null = null;
let currentKey = "";

// Each adapter request creates a wgpu instance, whose backends (Vulkan with
// Mesa's lavapipe, GL) probe for a Wayland display with libwayland's
// wl_display_connect; without an absolute XDG_RUNTIME_DIR libwayland writes
// "error: XDG_RUNTIME_DIR is invalid or not set in the environment." to the
// process's stderr, once per backend. During the request the variable
// names /dev/null, under which no socket can exist, so the check fails
// silently and connects nowhere; the caller's value is restored afterwards.
const RUNTIME_DIR = "XDG_RUNTIME_DIR";
const NO_RUNTIME_DIR = "/dev/null";
let quietRequests = 0;
let savedRuntimeDir: string | undefined;

/**
 * `gpu.requestAdapter(options)`, without the `XDG_RUNTIME_DIR` line that the
 * Wayland probe prints to stderr when the variable is unset. Needs nothing:
 * without `--allow-env=XDG_RUNTIME_DIR` (never prompted for) the request is
 * made as is.
 */
export async function requestAdapterQuietly(
  gpu: GPU,
  options?: GPURequestAdapterOptions,
): Promise<GPUAdapter | null> {
  const quiet = quietRequests > 0 || hideRuntimeDirCheck();
  if (quiet) quietRequests++;
  try {
    return await gpu.requestAdapter(options);
  } finally {
    if (quiet && --quietRequests === 0) restoreRuntimeDir();
  }
}

function hideRuntimeDirCheck(): boolean {
  if (!("Deno" in globalThis)) return false;
  if (Deno.build.os === "windows" || Deno.build.os === "darwin") return false;
  try {
    const descriptor = { name: "env", variable: RUNTIME_DIR } as const;
    if (Deno.permissions.querySync(descriptor).state !== "granted") {
      return false;
    }
    const dir = Deno.env.get(RUNTIME_DIR);
    if (dir?.startsWith("/")) return false;
    savedRuntimeDir = dir;
    Deno.env.set(RUNTIME_DIR, NO_RUNTIME_DIR);
    return true;
  } catch {
    return false;
  }
}

function restoreRuntimeDir(): void {
  if (savedRuntimeDir === undefined) Deno.env.delete(RUNTIME_DIR);
  else Deno.env.set(RUNTIME_DIR, savedRuntimeDir);
}

/**
 * The adapter's name, and whether it computes in software (a fallback
 * adapter, or one of the software rasterizers by name): the one test of
 * "software adapter" that the device, memory detection and the cluster
 * detector share.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const fake = { info: { description: "llvmpipe (LLVM 15.0.6, 256 bits)" } };
 * assert.deepStrictEqual(describeAdapter(fake as unknown as GPUAdapter), {
 *   name: "llvmpipe (LLVM 15.0.6, 256 bits)",
 *   software: true,
 * });
 * ```
 */
export function describeAdapter(
  adapter: GPUAdapter,
): { name: string; software: boolean } {
  const ai = (adapter.info ?? {}) as Partial<GPUAdapterInfo> & {
    isFallbackAdapter?: boolean;
  };
  const name = ai.description ||
    [ai.vendor, ai.architecture, ai.device].filter(Boolean).join(" ") ||
    "unknown adapter";
  const fallback = ai.isFallbackAdapter ??
    (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false;
  return {
    name,
    software: fallback ||
      SOFTWARE_NAMES.test(`${name} ${ai.vendor ?? ""} ${ai.device ?? ""}`),
  };
}

/**
 * Requests this runtime's WebGPU adapter, quietly (see
 * {@linkcode requestAdapterQuietly}), or throws `GpuUnavailableError`
 * saying why there is none.
 *
 * @example
 * ```ts
 * import { probeAdapter } from "./device.ts";
 * // await probeAdapter(); // an adapter, or GpuUnavailableError
 * void probeAdapter;
 * ```
 */
export async function probeAdapter(
  options: { powerPreference?: GPUPowerPreference } = {},
): Promise<GPUAdapter> {
  const gpu = (globalThis.navigator as { gpu?: GPU } | undefined)?.gpu;
  if (!gpu) {
    throw new GpuUnavailableError(
      "WebGPU is not available: navigator.gpu is undefined in this runtime",
    );
  }
  let adapter: GPUAdapter | null;
  try {
    adapter = await requestAdapterQuietly(
      gpu,
      options.powerPreference
        ? { powerPreference: options.powerPreference }
        : undefined,
    );
  } catch (e) {
    throw new GpuUnavailableError(
      `WebGPU requestAdapter failed: ${(e as Error).message}`,
      { cause: e },
    );
  }
  if (!adapter) {
    throw new GpuUnavailableError(
      "WebGPU is not available: no adapter found (no GPU driver, and no " +
        "software Vulkan such as Mesa lavapipe)",
    );
  }
  return adapter;
}

async function createContext(
  options: AcquireDeviceOptions,
): Promise<GpuContext> {
  const adapter = await probeAdapter(options);
  const requiredLimits: Record<string, number> = {};
  for (const name of LIMIT_NAMES) {
    const v = adapter.limits[name];
    if (typeof v === "number") requiredLimits[name] = v;
  }
  let device: GPUDevice | null = null;
  // Deno does not list shader-f64 in adapter.features even where the backend
  // supports it, so it is requested blindly and dropped if refused.
  if (!options.disableF64) {
    try {
      device = await adapter.requestDevice({
        requiredFeatures: ["shader-f64" as GPUFeatureName],
        requiredLimits,
      });
    } catch {
      device = null;
    }
  }
  if (!device) {
    try {
      device = await adapter.requestDevice({ requiredLimits });
    } catch (e) {
      throw new GpuUnavailableError(
        `WebGPU requestDevice failed: ${(e as Error).message}`,
        { cause: e },
      );
    }
  }
  const f64 = !options.disableF64 &&
    (device.features.has("shader-f64") ||
      // wgpu's native name, which Deno reports for the granted feature
      device.features.has("wgpu-shader-f64" as GPUFeatureName));
  const { name: adapterName, software } = describeAdapter(adapter);
  const limits = {} as Record<(typeof LIMIT_NAMES)[number], number>;
  for (const name of LIMIT_NAMES) limits[name] = device.limits[name];
  const info: GpuInfo = { adapterName, software, f64, limits };
  let lost = false;
  const whenLost = device.lost.then((l) => {
    lost = true;
    return new GpuDeviceLostError(l.reason ?? "unknown", l.message ?? "");
  });
  const ctx: GpuContext = {
    device,
    info,
    get lost() {
      return lost;
    },
    whenLost,
  };
  return ctx;
}

/**
 * The shared WebGPU device, created on first use and re-created after a
 * loss (a destroyed or reset device is never handed out again).
 *
 * @throws {GpuUnavailableError} when there is no adapter or no device.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { GpuUnavailableError } from "./errors.ts";
 * try {
 *   const ctx = await acquireDevice();
 *   assert.ok(ctx.info.limits.maxStorageBufferBindingSize > 0);
 *   assert.strictEqual(ctx.lost, false);
 * } catch (e) {
 *   assert.ok(e instanceof GpuUnavailableError); // no GPU on this machine
 * }
 * ```
 */
export async function acquireDevice(
  options: AcquireDeviceOptions = {},
): Promise<GpuContext> {
  const key = `${options.powerPreference ?? ""}|${!!options.disableF64}`;
  if (current && key === currentKey) {
    try {
      const ctx = await current;
      if (!ctx.lost) return ctx;
    } catch {
      // a failed attempt is not cached: try again below
    }
  }
  currentKey = key;
  const attempt = createContext(options);
  current = attempt;
  try {
    return await attempt;
  } catch (e) {
    if (current === attempt) current = null;
    throw e;
  }
}

/**
 * Describes the adapter and device that {@linkcode acquireDevice} gives.
 *
 * @throws {GpuUnavailableError} when there is no adapter.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { GpuUnavailableError } from "./errors.ts";
 * if (await isWebGpuAvailable()) {
 *   const info = await getGpuInfo();
 *   assert.strictEqual(typeof info.adapterName, "string");
 *   assert.strictEqual(typeof info.f64, "boolean");
 * } else {
 *   await assert.rejects(getGpuInfo(), GpuUnavailableError);
 * }
 * ```
 */
export async function getGpuInfo(
  options: AcquireDeviceOptions = {},
): Promise<GpuInfo> {
  return (await acquireDevice(options)).info;
}

/**
 * True when a WebGPU device can be acquired; never throws. For tests and for
 * the `auto` backend.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const ok = await isWebGpuAvailable();
 * assert.strictEqual(typeof ok, "boolean");
 * ```
 */
export async function isWebGpuAvailable(): Promise<boolean> {
  try {
    await acquireDevice();
    return true;
  } catch {
    return false;
  }
}
