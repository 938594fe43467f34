/**
 * Checkpoints of one fit: the identity of the problem (model, data,
 * settings), the solver states to resume from, and the session that writes
 * new checkpoints as the solver iterates.
 *
 * @module
 */

import type { SolverState } from "../../core/solver_types.ts";
import type { StrategyEvaluator } from "../../strategies/strategy.ts";
import {
  arraysFingerprint,
  type CheckpointContent,
  loadLatestCheckpoint,
  modelFingerprint,
} from "../../checkpoint/checkpoint.ts";
import { CheckpointSession } from "../../checkpoint/session.ts";
import { createCheckpointDirectory } from "../../checkpoint/checkpoint_directory.ts";
import type { FitCall } from "./_call.ts";
import type { FitData } from "./_input.ts";
import type { FitPlan } from "./_plan.ts";
import type { FitProgressTracker } from "./_progress.ts";
import { hostRuntime } from "../../runtime/host.ts";

/** The checkpoints of a fit: what to resume, and how to write new ones. */
export interface FitCheckpoints {
  /** Solver states to resume, by start index (empty without resume). */
  readonly resumeStates: ReadonlyMap<number, SolverState>;
  /**
   * Opens the session that writes checkpoints, or null when none are
   * wanted (or this process is not the writer, as MPI ranks other than 0).
   */
  open(
    sev: StrategyEvaluator,
    progress: FitProgressTracker,
  ): Promise<CheckpointSession | null>;
}

/**
 * Sets up a fit's checkpoints in one call: the problem's identity, and the
 * newest matching checkpoint when `resume` asks for one.
 */
export async function prepareCheckpoints(
  call: FitCall,
  input: FitData,
  plan: FitPlan,
  notes: string[],
): Promise<FitCheckpoints> {
  const o = call.options;
  const want = o.checkpointDir !== undefined || plan.workflow.checkpoints;
  const resumeStates = new Map<number, SolverState>();
  const none: FitCheckpoints = {
    resumeStates,
    open: () => Promise.resolve(null),
  };
  if (!want && !o.resume) return none;
  if (hostRuntime() === "browser") {
    if (o.checkpointDir !== undefined || o.resume) {
      throw new TypeError(
        `${
          o.resume ? "resume" : "checkpointDir"
        }: checkpoint files need Deno or Node; a browser has no file system`,
      );
    }
    notes.push("checkpoints skipped: a browser has no file system");
    return none;
  }
  const base = await problemIdentity(call, input, plan);
  let resumed: { start: number; state: SolverState }[] = [];
  if (o.resume) {
    const where = typeof o.resume === "string" ? o.resume : o.checkpointDir!;
    const loaded = await loadLatestCheckpoint(where, {
      match: {
        modelFingerprint: base.model.fingerprint,
        dataFingerprint: base.data.fingerprint,
        config: base.config,
      },
    });
    resumed = loaded.checkpoint.starts.map((s) => ({ ...s }));
    for (const s of resumed) resumeStates.set(s.start, s.state);
    for (const sk of loaded.skipped) {
      notes.push(`skipped damaged checkpoint ${sk.path}: ${sk.reason}`);
    }
    notes.push(
      `resumed from ${loaded.path} (iteration ${
        Math.max(...resumed.map((s) => s.state.nit))
      })`,
    );
  }
  if (!want) return { ...none, resumeStates };
  return {
    resumeStates,
    async open(sev, progress) {
      // Under MPI only the writing rank makes the (default) directory.
      if (sev.isCheckpointWriter === false) return null;
      const session = new CheckpointSession({
        dir: o.checkpointDir ?? await createCheckpointDirectory(),
        every: o.checkpointEvery ?? sev.checkpointEvery ?? 1,
        keep: o.checkpointKeep ?? 3,
        base,
        progress: () => progress.lastPass,
      });
      session.seed(resumed);
      return session;
    },
  };
}

/** The model, data and settings a checkpoint belongs to. */
async function problemIdentity(
  call: FitCall,
  input: FitData,
  plan: FitPlan,
): Promise<Omit<CheckpointContent, "starts" | "progress">> {
  const m = call.model;
  const src = call.source;
  const so = plan.solver;
  const arrays = input.arrays;
  return {
    model: {
      fingerprint: await modelFingerprint(m),
      description: m.expression ?? `function of ${m.params.join(", ")}`,
    },
    data: {
      fingerprint: src?.fingerprint ??
        await arraysFingerprint([
          ...arrays!.x,
          arrays!.y,
          arrays!.sigma,
          input.sigmaChol,
        ]),
      description: src?.description ?? `arrays (${input.nPoints} points)`,
      nPoints: Number.isFinite(input.nPoints) ? input.nPoints : null,
    },
    config: {
      method: so.method,
      loss: so.loss,
      fScale: so.fScale,
      lower: Array.from(so.lower),
      upper: Array.from(so.upper),
      nStarts: plan.starts.length,
      ftol: so.ftol,
      xtol: so.xtol,
      gtol: so.gtol,
      maxNfev: so.maxNfev,
      strategy: plan.strategyName,
      strategyConfig: plan.config,
    },
  };
}
