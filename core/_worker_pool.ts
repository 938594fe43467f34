/**
 * A process-wide pool of worker threads (node:worker_threads) evaluated from
 * self-contained source, so no file-read permission is needed. Workers are
 * started on first use and kept for later calls, unref'd while idle.
 * Protocol: a worker answers a request `{ id, ... }` with `{ id, out }` or
 * `{ id, error }`.
 *
 * @module
 */

import { Worker as NodeWorker } from "node:worker_threads";

/**
 * A process-wide pool of worker threads, started on first use and kept for
 * later fits (starting a thread costs tens of milliseconds). Idle workers are
 * unref'd so they never keep the process alive.
 */
export class WorkerPool {
  readonly #source: string;
  #workers: NodeWorker[] = [];
  #pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; w: NodeWorker }
  >();
  #inflight = new Map<NodeWorker, number>();
  #nextId = 0;

  /** A pool whose workers evaluate `source` (CommonJS, `require` works). */
  constructor(source: string) {
    this.#source = source;
  }

  /** The first `n` workers, started as needed. */
  get(n: number): NodeWorker[] {
    while (this.#workers.length < n) {
      const w = new NodeWorker(this.#source, { eval: true });
      w.unref();
      w.on("message", (m: { id: number; out?: unknown; error?: string }) => {
        const p = this.#pending.get(m.id);
        if (!p) return;
        this.#pending.delete(m.id);
        const left = (this.#inflight.get(w) ?? 1) - 1;
        this.#inflight.set(w, left);
        if (left === 0) w.unref();
        if (m.error !== undefined) {
          p.reject(new Error(`worker thread failed: ${m.error}`));
        } else p.resolve(m.out);
      });
      w.on("error", (e: Error) => {
        for (const [id, p] of this.#pending) {
          if (p.w === w) {
            this.#pending.delete(id);
            p.reject(new Error(`worker thread failed: ${e.message}`));
          }
        }
        this.#workers = this.#workers.filter((x) => x !== w);
      });
      this.#workers.push(w);
    }
    return this.#workers.slice(0, n);
  }

  /** Posts a message that needs no answer. */
  send(w: NodeWorker, msg: Record<string, unknown>): void {
    w.postMessage(msg);
  }

  /**
   * Posts `msg` with a fresh `id`; resolves with the worker's `out` for that
   * id, or rejects with its `error`.
   */
  request<T>(w: NodeWorker, msg: Record<string, unknown>): Promise<T> {
    const id = this.#nextId++;
    this.#inflight.set(w, (this.#inflight.get(w) ?? 0) + 1);
    w.ref();
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, {
        resolve: resolve as (v: unknown) => void,
        reject,
        w,
      });
      w.postMessage({ ...msg, id });
    });
  }
}
