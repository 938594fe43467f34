// The checkpoint side of one fit: remembers the latest solver state of every
// start, writes a checkpoint every `every` iterations (one write at a time,
// in order, even when several starts iterate concurrently), and on abort or
// error writes the last completed state if it is not on disk yet. Every
// session is its own run, so fits sharing a directory never collide.

import type { SolverState } from "../core/solver_types.ts";
import {
  type CheckpointContent,
  type CheckpointProgress,
  type CheckpointStart,
  newCheckpointRun,
  writeCheckpoint,
} from "./checkpoint.ts";

/** Settings of a {@linkcode CheckpointSession}. */
export interface CheckpointSessionOptions {
  /** Directory to write to. */
  readonly dir: string;
  /** Write every this many iterations (per start). */
  readonly every: number;
  /** Files to keep. */
  readonly keep: number;
  /** Model, data and configuration parts of every checkpoint. */
  readonly base: Omit<CheckpointContent, "starts" | "progress">;
  /** Current position in the data (streaming), read at write time. */
  readonly progress: () => CheckpointProgress | null;
}

/** Checkpoint writing for one fit. */
export class CheckpointSession {
  #o: CheckpointSessionOptions;
  #states = new Map<number, SolverState>();
  #unsaved = false;
  #chain: Promise<unknown> = Promise.resolve();
  #last: string | null = null;
  #run = newCheckpointRun();

  constructor(options: CheckpointSessionOptions) {
    this.#o = options;
  }

  /** Path of the last file written, if any. */
  get lastPath(): string | null {
    return this.#last;
  }

  /** Starts from a resumed checkpoint's states (kept for starts not rerun). */
  seed(starts: readonly CheckpointStart[]): void {
    for (const s of starts) this.#states.set(s.start, s.state);
  }

  /** Records the state after an iteration; writes every `every` iterations. */
  record(start: number, state: SolverState): Promise<void> {
    this.#states.set(start, state);
    this.#unsaved = true;
    return state.nit % this.#o.every === 0 ? this.#write() : Promise.resolve();
  }

  /** Writes the latest states if the last write does not have them. */
  flush(): Promise<void> {
    return this.#unsaved ? this.#write() : this.#chain.then(() => {});
  }

  #write(): Promise<void> {
    this.#unsaved = false;
    const starts = [...this.#states.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([start, state]) => ({ start, state }));
    const content: CheckpointContent = {
      ...this.#o.base,
      starts,
      progress: this.#o.progress(),
    };
    const next = this.#chain.then(async () => {
      this.#last = await writeCheckpoint(this.#o.dir, content, {
        keep: this.#o.keep,
        run: this.#run,
      });
    });
    this.#chain = next.catch(() => {});
    return next;
  }
}
