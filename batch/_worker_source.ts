/**
 * The batch engine's worker threads: each keeps the engines it compiled (by
 * source) and one engine state per batch ("context"), and fits the chunks
 * it is sent. Inputs and results live in SharedArrayBuffers, so a chunk
 * message carries only indices (and, when the caller's data are not shared,
 * the chunk's copy).
 *
 * Messages: `init { ctx, source, config, capacity, data }` with `data` the
 * buffers of the fits' data: `{ y, x, s }` read in place, or a list of such
 * slots that chunks are copied into; `chunk { ctx, first, count, slot }`
 * (slot -1: in place), answered when done; and `dispose { ctx }`. Arrays
 * travel once, in `init`: a message that carries a SharedArrayBuffer costs
 * far more than one that carries numbers.
 *
 * @module
 */

import { WorkerPool } from "../core/_worker_pool.ts";

const WORKER_SOURCE = `
"use strict";
const { parentPort } = require("node:worker_threads");
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
      const state = engine.create(m.config, m.capacity);
      contexts.set(m.ctx, { engine, state, data: m.data, slots: m.slots });
    } else if (m.type === "chunk") {
      const c = contexts.get(m.ctx);
      const d = m.slot < 0 ? c.data : c.slots[m.slot];
      c.engine.runChunk(c.state, m.first, m.count, d.y, d.x, d.s,
        m.slot < 0 ? m.first : 0);
    }
    parentPort.postMessage({ id: m.id, out: null });
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: String((e && e.message) || e) });
  }
});
`;

/** The batch engine's pool of worker threads (started on first use). */
export const BATCH_POOL: WorkerPool = new WorkerPool(WORKER_SOURCE);
