/**
 * Errors of the WebGPU backend. Each names one problem, so a caller (the
 * `auto` backend, a strategy) can catch it and fall back to the CPU.
 *
 * @module
 */

/**
 * No WebGPU adapter could be obtained (no `navigator.gpu`, or
 * `requestAdapter()` returned null, or `requestDevice()` failed).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const e = new GpuUnavailableError("no adapter");
 * assert.ok(e instanceof Error);
 * assert.strictEqual(e.name, "GpuUnavailableError");
 * ```
 */
export class GpuUnavailableError extends Error {
  /** Creates the error with a message saying what was missing. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "GpuUnavailableError";
  }
}

/**
 * The GPU device was lost (driver reset, `device.destroy()`, out of memory)
 * while a call was using it. The call that saw the loss fails with this
 * error; the next call acquires a new device and uploads the data again.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const e = new GpuDeviceLostError("destroyed", "device was destroyed");
 * assert.strictEqual(e.reason, "destroyed");
 * assert.match(e.message, /device lost/);
 * ```
 */
export class GpuDeviceLostError extends Error {
  /** `GPUDeviceLostInfo.reason`: `"destroyed"` or `"unknown"`. */
  readonly reason: string;
  /** Creates the error from the loss reason and the driver's message. */
  constructor(reason: string, detail: string, options?: ErrorOptions) {
    super(
      `WebGPU device lost (${reason})${detail ? `: ${detail}` : ""}`,
      options,
    );
    this.name = "GpuDeviceLostError";
    this.reason = reason;
  }
}

/**
 * A generated WGSL kernel failed to compile or validate, or the device
 * reported an error while running it. The message carries the compiler's
 * diagnostics. This is a bug of the code generator or a missing driver
 * feature, never a problem of the user's data.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const e = new GpuKernelError("unknown identifier `foo`");
 * assert.strictEqual(e.name, "GpuKernelError");
 * ```
 */
export class GpuKernelError extends Error {
  /** Creates the error with the compiler's or driver's message. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "GpuKernelError";
  }
}
