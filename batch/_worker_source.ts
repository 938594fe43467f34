/**
 * The batch engine's worker threads: each keeps the engines it compiled (by
 * source) and one engine state per batch ("context"), and fits the chunks
 * it is sent. Inputs and results live in SharedArrayBuffers, so a chunk
 * message carries only indices (and, when the caller's data are not shared,
 * the chunk's copy).
 *
 * Messages: `init { ctx, source, config, capacity, data, slots }` with
 * `data` the fits' data read in place (`ChunkData` of `_lm_chunk.ts`), or
 * `slots`, such buffers that chunks are copied into; `chunk { ctx, first, count, slot }`
 * (slot -1: in place), answered when done; and `dispose { ctx }`. Arrays
 * travel once, in `init`: a message that carries a SharedArrayBuffer costs
 * far more than one that carries numbers. And typed arrays travel as their
 * SharedArrayBuffer and place ({@linkcode packArrays}): Deno's
 * node:worker_threads looks for message ports inside every message by
 * enumerating its keys, the index of every element of a typed array
 * included (a quarter of a microsecond per element, and the garbage of a
 * string per index: a second and 140 MB of heap for 4M doubles).
 *
 * @module
 */

import { WorkerPool } from "../core/_worker_pool.ts";

const WORKER_SOURCE = `
"use strict";
const { parentPort } = require("node:worker_threads");
const KINDS = { f64: Float64Array, i32: Int32Array, i8: Int8Array, u8: Uint8Array };
// The inverse of packArrays (main thread): typed arrays from their buffers.
function revive(v) {
  if (v === null || typeof v !== "object") return v;
  if (v.__typed) return new KINDS[v.__typed](v.buffer, v.offset, v.length);
  if (Array.isArray(v)) return v.map(revive);
  const out = {};
  for (const key of Object.keys(v)) out[key] = revive(v[key]);
  return out;
}
const engines = new Map();
const contexts = new Map();
parentPort.on("message", (m) => {
  try {
    if (m.type === "dispose") {
      contexts.delete(m.ctx);
      return;
    }
    if (m.type === "init") {
      let engine = engines.get(m.source);
      if (!engine) {
        engine = new Function("return " + m.source)();
        // Keep the engines of the last few models only.
        if (engines.size >= 8) engines.delete(engines.keys().next().value);
        engines.set(m.source, engine);
      }
      const state = engine.create(revive(m.config), m.capacity);
      contexts.set(m.ctx, {
        engine, state, data: revive(m.data), slots: revive(m.slots),
      });
    } else if (m.type === "chunk") {
      const c = contexts.get(m.ctx);
      const d = m.slot < 0 ? c.data : c.slots[m.slot];
      c.engine.runChunk(c.state, m.first, m.count, d, m.slot < 0 ? m.first : 0);
    }
    parentPort.postMessage({ id: m.id, out: null });
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: String((e && e.message) || e) });
  }
});
`;

/** The batch engine's pool of worker threads (started on first use). */
export const BATCH_POOL: WorkerPool = new WorkerPool(WORKER_SOURCE);

const KIND_OF = new Map<unknown, string>([
  [Float64Array, "f64"],
  [Int32Array, "i32"],
  [Int8Array, "i8"],
  [Uint8Array, "u8"],
]);

/**
 * A message value with every typed array replaced by its SharedArrayBuffer
 * (a copy, for one that is not shared) and place, which the worker turns
 * back into the array.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { packArrays } from "./_worker_source.ts";
 * const a = new Float64Array(new SharedArrayBuffer(32), 8, 2);
 * const packed = packArrays({ a, n: 3, list: [a] }) as {
 *   a: { __typed: string; offset: number; length: number };
 *   n: number;
 * };
 * assert.deepStrictEqual([packed.a.__typed, packed.a.offset, packed.a.length, packed.n], ["f64", 8, 2, 3]);
 * const copied = packArrays(new Int32Array([1, 2])) as { buffer: unknown };
 * assert.ok(copied.buffer instanceof SharedArrayBuffer);
 * ```
 */
export function packArrays(v: unknown): unknown {
  if (v === null || typeof v !== "object") return v;
  if (ArrayBuffer.isView(v)) {
    const kind = KIND_OF.get(v.constructor);
    if (!kind) {
      throw new TypeError(`packArrays: ${v.constructor.name} is not supported`);
    }
    let t = v as Float64Array;
    if (!(t.buffer instanceof SharedArrayBuffer)) {
      // Copied once into shared memory (small arrays only, in practice).
      const Kind = v.constructor as Float64ArrayConstructor;
      const s = new Kind(new SharedArrayBuffer(t.byteLength));
      s.set(t);
      t = s;
    }
    return {
      __typed: kind,
      buffer: t.buffer,
      offset: t.byteOffset,
      length: t.length,
    };
  }
  if (Array.isArray(v)) return v.map(packArrays);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(v)) out[key] = packArrays(value);
  return out;
}
