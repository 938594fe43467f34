// Waiting on a nonblocking MPI operation from the JavaScript thread. Each
// test drives MPI's progress engine, so a short wait spins; a long one (a
// slower rank, a rank still computing before it finalizes) sleeps a little
// between tests, leaving the core to the other ranks sharing the node.

const SPIN_MS = 20;
const SLEEP_MS = 0.2;
const CHECK_EVERY = 64;

let sleeper: Int32Array | null = null;

function nap(ms: number): void {
  sleeper ??= new Int32Array(new SharedArrayBuffer(4));
  Atomics.wait(sleeper, 0, 0, ms);
}

/**
 * Calls `done` until it returns true, and `check` (which may end the job)
 * every so often in between.
 */
export function pollUntil(done: () => boolean, check: () => void): void {
  const t0 = performance.now();
  for (let i = 1;; i++) {
    if (done()) return;
    if (i % CHECK_EVERY === 0) {
      check();
      if (performance.now() - t0 > SPIN_MS) nap(SLEEP_MS);
    }
  }
}
