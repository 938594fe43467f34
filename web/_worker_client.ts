// The page's side of its Web Worker (web/worker.ts): requests by id,
// answers and errors, progress messages, and ending the worker (cancel).

/** A fit's progress as the worker posts it. */
export interface ProgressMessage {
  readonly nit: number;
  readonly nfev: number;
  readonly cost: number;
  readonly elapsedMs: number;
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

/** One worker and its pending requests. */
export class WorkerClient {
  #worker: Worker;
  #nextId = 0;
  #pending = new Map<number, Pending>();
  /** Called with each progress message of a fit. */
  onProgress?: (p: ProgressMessage) => void;

  /** Starts the worker at `url` (an ES module). */
  constructor(url: URL) {
    this.#worker = new Worker(url, { type: "module" });
    this.#worker.onmessage = (ev) => {
      const m = ev.data;
      if (m.type === "progress") return this.onProgress?.(m);
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m.out);
    };
    this.#worker.onerror = (ev) =>
      this.#failAll(`worker failed: ${ev.message}`);
  }

  /** Sends a request; resolves with the worker's answer. */
  call<T>(
    type: string,
    args: unknown,
    transfer: Transferable[] = [],
  ): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, {
        resolve: resolve as (v: unknown) => void,
        reject,
      });
      this.#worker.postMessage({ id, type, args }, transfer);
    });
  }

  /** Ends the worker now; pending requests reject with `reason`. */
  terminate(reason: string): void {
    this.#worker.terminate();
    this.#failAll(reason);
  }

  #failAll(reason: string): void {
    for (const p of this.#pending.values()) p.reject(new Error(reason));
    this.#pending.clear();
  }
}
