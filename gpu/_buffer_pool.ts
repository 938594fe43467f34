/**
 * A small pool of released data buffers per device, and the piecewise
 * upload that fills them.
 *
 * Why: on lavapipe "GPU memory" is fresh host memory, and the first touch of
 * every page costs a fault. Measured at 1e7 points (160 MB of f64 columns):
 * one `writeBuffer` per column into a new buffer takes 53 ms on the caller
 * and 51 ms on the device; writing 4 MiB pieces (whose staging memory the
 * allocator reuses) into a reused buffer takes 12 + 12 ms. Caching
 * allocators of GPU frameworks (PyTorch, XLA) keep memory for the same
 * reason. The pool holds at most {@linkcode POOL_MAX_BYTES};
 * {@linkcode releasePooledBuffers} frees it.
 *
 * @module
 */

/**
 * Most bytes the pool keeps per device (least recently released go first).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(POOL_MAX_BYTES, 2 ** 29);
 * ```
 */
export const POOL_MAX_BYTES = 512 * 1024 * 1024;

/**
 * Bytes per `writeBuffer` call of {@linkcode uploadColumn}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(UPLOAD_PIECE_BYTES % 8, 0); // whole f64 values
 * ```
 */
export const UPLOAD_PIECE_BYTES = 4 * 1024 * 1024;

/** `writeBuffer` calls between two submissions in {@linkcode uploadColumn}. */
const PIECES_PER_SUBMIT = 2;

interface Entry {
  readonly buffer: GPUBuffer;
  readonly size: number;
  readonly usage: number;
}

const pools = new Map<GPUDevice, Entry[]>();
let unloadHooked = false;

// Pooled buffers are destroyed before the runtime tears the devices down, so
// that teardown meets no buffer of ours.
function hookUnload(): void {
  if (unloadHooked) return;
  unloadHooked = true;
  globalThis.addEventListener?.("unload", () => {
    for (const device of [...pools.keys()]) releasePooledBuffers(device);
  });
}

/**
 * A buffer of at least `size` bytes with exactly `usage`: a pooled one no
 * more than 1.5x larger when there is one, else a new one.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { isWebGpuAvailable, acquireDevice } from "./device.ts";
 * if (await isWebGpuAvailable()) {
 *   const { device } = await acquireDevice();
 *   const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
 *   const a = takeBuffer(device, 1024, usage);
 *   releaseBuffer(device, a, usage);
 *   assert.strictEqual(takeBuffer(device, 1000, usage), a);
 *   a.destroy();
 * }
 * ```
 */
export function takeBuffer(
  device: GPUDevice,
  size: number,
  usage: number,
): GPUBuffer {
  const pool = pools.get(device) ?? [];
  let best = -1;
  pool.forEach((e, i) => {
    if (
      e.usage === usage && e.size >= size && e.size <= 1.5 * size &&
      (best < 0 || e.size < pool[best].size)
    ) best = i;
  });
  if (best >= 0) return pool.splice(best, 1)[0].buffer;
  return device.createBuffer({ size, usage });
}

/**
 * Gives `buffer` (created with `usage`) back to the device's pool, which
 * destroys its oldest entries beyond {@linkcode POOL_MAX_BYTES}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { isWebGpuAvailable, acquireDevice } from "./device.ts";
 * if (await isWebGpuAvailable()) {
 *   const { device } = await acquireDevice();
 *   const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
 *   releaseBuffer(device, device.createBuffer({ size: 256, usage }), usage);
 *   assert.ok(pooledBytes(device) >= 256);
 *   releasePooledBuffers(device);
 *   assert.strictEqual(pooledBytes(device), 0);
 * }
 * ```
 */
export function releaseBuffer(
  device: GPUDevice,
  buffer: GPUBuffer,
  usage: number,
): void {
  let pool = pools.get(device);
  if (!pool) {
    pool = [];
    pools.set(device, pool);
    hookUnload();
    // A lost device's buffers are gone: drop its pool.
    device.lost.then(() => releasePooledBuffers(device));
  }
  pool.push({ buffer, size: buffer.size, usage });
  let total = pool.reduce((s, e) => s + e.size, 0);
  while (total > POOL_MAX_BYTES && pool.length > 0) {
    const e = pool.shift()!;
    total -= e.size;
    e.buffer.destroy();
  }
}

/**
 * Bytes held in the pool of `device`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { isWebGpuAvailable, acquireDevice } from "./device.ts";
 * if (await isWebGpuAvailable()) {
 *   const { device } = await acquireDevice();
 *   assert.ok(pooledBytes(device) <= POOL_MAX_BYTES);
 * }
 * ```
 */
export function pooledBytes(device: GPUDevice): number {
  return (pools.get(device) ?? []).reduce((s, e) => s + e.size, 0);
}

/**
 * Destroys every pooled buffer of `device`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { isWebGpuAvailable, acquireDevice } from "./device.ts";
 * if (await isWebGpuAvailable()) {
 *   const { device } = await acquireDevice();
 *   releasePooledBuffers(device);
 *   assert.strictEqual(pooledBytes(device), 0);
 * }
 * ```
 */
export function releasePooledBuffers(device: GPUDevice): void {
  for (const e of pools.get(device) ?? []) e.buffer.destroy();
  pools.delete(device);
}

/**
 * Writes the f64 column `src` into `buffer` at byte `offset`, as f64 or
 * converted to f32, in pieces of {@linkcode UPLOAD_PIECE_BYTES}: a
 * submission every few pieces lets the staging memory of one piece be
 * reused by the next ones, and a conversion (f32, or a shared source, which
 * `writeBuffer` does not take) needs only one piece of scratch. With
 * `check`, the first value that is not finite in the written precision is
 * reported to it (by index into `src`) and the upload stops.
 * `piecesPerSubmit` (default 2) sets how often the staged pieces are
 * submitted.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { isWebGpuAvailable, acquireDevice } from "./device.ts";
 * if (await isWebGpuAvailable()) {
 *   const { device } = await acquireDevice();
 *   const b = device.createBuffer({
 *     size: 16,
 *     usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
 *   });
 *   const r = device.createBuffer({
 *     size: 16,
 *     usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ,
 *   });
 *   uploadColumn(device, b, 0, new Float64Array([1, 2]), "f64");
 *   const enc = device.createCommandEncoder();
 *   enc.copyBufferToBuffer(b, 0, r, 0, 16);
 *   device.queue.submit([enc.finish()]);
 *   await r.mapAsync(GPUMapMode.READ);
 *   assert.deepStrictEqual([...new Float64Array(r.getMappedRange())], [1, 2]);
 *   r.unmap();
 *   b.destroy();
 *   r.destroy();
 * }
 * ```
 */
export function uploadColumn(
  device: GPUDevice,
  buffer: GPUBuffer,
  offset: number,
  src: Float64Array,
  precision: "f64" | "f32",
  check?: (index: number, value: number) => never,
  piecesPerSubmit: number = PIECES_PER_SUBMIT,
): void {
  const eb = precision === "f64" ? 8 : 4;
  const per = Math.floor(UPLOAD_PIECE_BYTES / eb);
  const convert = precision === "f32" ||
    src.buffer instanceof SharedArrayBuffer;
  const scratch = !convert
    ? null
    : precision === "f32"
    ? new Float32Array(Math.min(per, src.length))
    : new Float64Array(Math.min(per, src.length));
  let pieces = 0;
  for (let i = 0; i < src.length; i += per) {
    const end = Math.min(src.length, i + per);
    let part: Float64Array<ArrayBuffer> | Float32Array<ArrayBuffer>;
    if (scratch) {
      part = scratch.subarray(0, end - i);
      part.set(src.subarray(i, end));
    } else part = src.subarray(i, end) as Float64Array<ArrayBuffer>;
    if (check) {
      for (let k = 0; k < part.length; k++) {
        if (!Number.isFinite(part[k])) check(i + k, part[k]);
      }
    }
    device.queue.writeBuffer(buffer, offset + i * eb, part);
    if (++pieces % piecesPerSubmit === 0) device.queue.submit([]);
  }
}
