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
