// Device acquisition: description, caching, f64 opt-out, and the typed
// error when WebGPU is missing.
import assert from "node:assert";
import {
  acquireDevice,
  getGpuInfo,
  GpuUnavailableError,
  isWebGpuAvailable,
} from "../gpu/mod.ts";

const HAS_GPU = await isWebGpuAvailable();
if (!HAS_GPU) {
  console.warn("gpu_device_test: no WebGPU adapter, GPU tests are IGNORED");
}

Deno.test({
  name: "getGpuInfo describes the adapter and the granted limits",
  ignore: !HAS_GPU,
  fn: async () => {
    const info = await getGpuInfo();
    assert.ok(info.adapterName.length > 0);
    assert.strictEqual(typeof info.software, "boolean");
    assert.strictEqual(typeof info.f64, "boolean");
    // the device gets the adapter's limits, not WebGPU's defaults
    const adapter = (await navigator.gpu.requestAdapter())!;
    assert.strictEqual(
      info.limits.maxStorageBufferBindingSize,
      adapter.limits.maxStorageBufferBindingSize,
    );
    assert.strictEqual(info.limits.maxBufferSize, adapter.limits.maxBufferSize);
    assert.strictEqual(
      info.limits.maxComputeWorkgroupSizeX,
      adapter.limits.maxComputeWorkgroupSizeX,
    );
    if (/llvmpipe/.test(info.adapterName)) {
      // llvmpipe behind Vulkan (lavapipe) or GL; only Vulkan grants f64
      assert.strictEqual(info.software, true);
    }
    console.log(
      `  ${info.adapterName}: software ${info.software}, f64 ${info.f64}, ` +
        `binding ${info.limits.maxStorageBufferBindingSize} B, buffer ${info.limits.maxBufferSize} B`,
    );
  },
});

Deno.test({
  name: "acquireDevice shares one device until it is lost",
  ignore: !HAS_GPU,
  fn: async () => {
    const a = await acquireDevice();
    const b = await acquireDevice();
    assert.strictEqual(a, b);
    a.device.destroy();
    const lostError = await a.whenLost;
    assert.strictEqual(lostError.name, "GpuDeviceLostError");
    assert.strictEqual(a.lost, true);
    const c = await acquireDevice();
    assert.notStrictEqual(c.device, a.device);
    assert.strictEqual(c.lost, false);
  },
});

Deno.test({
  name: "disableF64 gives a device without shader-f64",
  ignore: !HAS_GPU,
  fn: async () => {
    const ctx = await acquireDevice({ disableF64: true });
    assert.strictEqual(ctx.info.f64, false);
    assert.strictEqual(ctx.device.features.has("shader-f64"), false);
  },
});

Deno.test("no navigator.gpu: acquireDevice rejects with GpuUnavailableError", async () => {
  const desc = Object.getOwnPropertyDescriptor(globalThis, "navigator")!;
  Object.defineProperty(globalThis, "navigator", {
    value: {},
    configurable: true,
    writable: true,
  });
  try {
    // a key never used before, so nothing cached can answer
    await assert.rejects(
      acquireDevice({ powerPreference: "low-power" }),
      (e: unknown) =>
        e instanceof GpuUnavailableError && /navigator\.gpu/.test(e.message),
    );
  } finally {
    Object.defineProperty(globalThis, "navigator", desc);
  }
});

/** Runs `script` in `deno run -A` with XDG_RUNTIME_DIR unset. */
async function runWithoutRuntimeDir(
  script: string,
): Promise<{ stdout: string; stderr: string }> {
  const env = Deno.env.toObject();
  delete env.XDG_RUNTIME_DIR;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-config", "-"],
    clearEnv: true,
    env: { ...env, NO_COLOR: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const out = await child.output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.strictEqual(out.code, 0, stderr);
  return { stdout: new TextDecoder().decode(out.stdout), stderr };
}

Deno.test({
  name: "probing the adapter without XDG_RUNTIME_DIR prints nothing about it",
  ignore: !HAS_GPU,
  fn: async () => {
    const device = new URL("../gpu/device.ts", import.meta.url).href;
    const memory = new URL("../memory/available_memory.ts", import.meta.url)
      .href;
    const { stdout, stderr } = await runWithoutRuntimeDir(`
import { getGpuInfo } from "${device}";
import { detectGpuMemoryGb } from "${memory}";
const info = await getGpuInfo();
const gb = await detectGpuMemoryGb({ refresh: true });
console.log(JSON.stringify({
  adapter: info.adapterName,
  gb,
  after: Deno.env.get("XDG_RUNTIME_DIR") ?? null,
}));`);
    assert.doesNotMatch(stderr, /XDG_RUNTIME_DIR/);
    const out = JSON.parse(stdout);
    assert.ok(out.adapter.length > 0 && out.gb > 0, stdout);
    // The variable is only set for the request, then unset again.
    assert.strictEqual(out.after, null);

    // The plain request shows what is hidden (where libwayland is installed).
    const plain = await runWithoutRuntimeDir(
      "await navigator.gpu.requestAdapter();",
    );
    if (!/XDG_RUNTIME_DIR/.test(plain.stderr)) {
      console.warn("  (a plain requestAdapter prints no XDG_RUNTIME_DIR here)");
    }
  },
});
