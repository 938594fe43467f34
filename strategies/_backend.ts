/**
 * Picks the arithmetic backend for in-memory data: the multi-threaded CPU
 * evaluator, or WebGPU where requested (or measured faster under "auto").
 */

import { createParallelEvaluator } from "../core/parallel_evaluator.ts";
import type {
  InMemoryData,
  StrategyContext,
  StrategyEvaluator,
} from "./strategy.ts";

/**
 * Below this many rows the worker round trip (~0.1 ms) costs more than the
 * second core saves: a pass over 50k points of a 3-parameter model takes
 * ~1 ms on one core here.
 */
export const THREADS_MIN_POINTS = 50_000;

/** Builds a CPU evaluator over in-memory data (threads when it pays). */
export function createCpuBackend(
  ctx: StrategyContext,
  data: InMemoryData,
  chunkRows?: number,
): StrategyEvaluator {
  const requested = ctx.threads ?? "auto";
  const threads = requested === "auto"
    ? (data.y.length >= THREADS_MIN_POINTS
      ? navigator.hardwareConcurrency ?? 1
      : 1)
    : requested;
  const ev = createParallelEvaluator(ctx.model, data, {
    loss: ctx.loss,
    fScale: ctx.fScale,
    threads,
    chunkRows,
  });
  return {
    nParams: ev.nParams,
    nResiduals: ev.nResiduals,
    evaluate: (t, w) => ev.evaluate(t, w),
    backend: `cpu (${ev.threads} thread${ev.threads > 1 ? "s" : ""}, f64)`,
    close: () => ev.close(),
  };
}

/** Requires in-memory data; strategies that stream say so in the error. */
export function requireMemory(
  ctx: StrategyContext,
  name: string,
): InMemoryData {
  if (ctx.data.kind !== "memory") {
    throw new TypeError(
      `strategy "${name}" needs in-memory data; use the "streaming" strategy for a data source`,
    );
  }
  return ctx.data;
}
