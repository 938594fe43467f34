/**
 * The source of one batch engine: the model's generated kernel and the
 * chunk solver in one self-contained function expression, so the main
 * thread and every worker compile the same text (each compilation gets its
 * own type feedback, so the solver's calls into the kernel stay
 * monomorphic per model).
 *
 * @module
 */

import { EPS } from "../core/_constants.ts";
import type { Node } from "../model/ast.ts";
import { derivative } from "../model/derivative.ts";
import { modelSsa } from "../model/model_ssa.ts";
import { simplify } from "../model/simplify.ts";
import { type Ssa, toSsa } from "../model/ssa.ts";
import type { BatchProblem } from "./_input.ts";
import { lossRho } from "../core/loss.ts";
import { batchKernelSources, type KernelSpec } from "./_kernel_source.ts";
import { iterateSources } from "./_iterate_source.ts";
import {
  MAX_UNROLLED,
  quadFormSource,
  solveStepSource,
} from "./_step_source.ts";
import {
  createEngineState,
  type EngineConfig,
  type EngineState,
} from "./_engine_state.ts";
import {
  computeStep,
  evalFit,
  finishFit,
  finiteLinearization,
  goodPoint,
  initFit,
  iterateFit,
  makeLoopQuadForm,
  makeLoopSolver,
  prepareData,
  projectedGradientNorm,
  runChunk,
  standardErrors,
  sumSquaresAboutMean,
} from "./_lm_chunk.ts";

/** What evaluating an engine's source returns. */
export interface CompiledEngine {
  /** The state of a batch for chunks of up to `capacity` fits. */
  create(config: EngineConfig, capacity: number): EngineState;
  /** Fits one chunk (see `runChunk` in `_lm_chunk.ts`). */
  runChunk: typeof runChunk;
}

/** Replaced by generated versions for the unrolled orders. */
const GENERIC_ITERATION = [computeStep, iterateFit, standardErrors];

const SOLVER_FUNCTIONS = [
  evalFit,
  finiteLinearization,
  goodPoint,
  prepareData,
  sumSquaresAboutMean,
  projectedGradientNorm,
  initFit,
  makeLoopSolver,
  makeLoopQuadForm,
  finishFit,
  runChunk,
  createEngineState,
];

/**
 * The engine's source: an expression evaluating to a
 * {@linkcode CompiledEngine}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "@nlsq/nlsq";
 * import { modelSsa } from "@nlsq/nlsq/model";
 * import { compileEngine, engineSource } from "./_engine_source.ts";
 * const src = engineSource({
 *   ssa: modelSsa(model("a * x")), nParams: 1, free: [0],
 *   estimator: "lse", loss: "linear", fScale: 1, bounded: false,
 * });
 * assert.strictEqual(typeof compileEngine(src).runChunk, "function");
 * ```
 */
export function engineSource(
  spec: KernelSpec & { readonly bounded: boolean },
): string {
  const k = batchKernelSources(spec);
  const parts = [k.helpers];
  if (spec.loss !== "linear" && spec.estimator === "lse") {
    parts.push(
      `const EPS = ${EPS};`,
      lossRho.toString(),
      "const RHO = new Float64Array(3);",
    );
  }
  parts.push(
    `const kernel = ${k.kernel};`,
    `const covKernel = ${k.covKernel ?? "null"};`,
    `const startKernel = ${spec.secondOrder ? "covKernel" : "null"};`,
    `const ssr = ${k.ssr};`,
  );
  for (const f of SOLVER_FUNCTIONS) parts.push(f.toString());
  const q = spec.free.length;
  if (q <= MAX_UNROLLED) {
    parts.push(
      iterateSources({
        nParams: spec.nParams,
        free: spec.free,
        bounded: spec.bounded,
      }),
      `const solveStep = ${solveStepSource(q, spec.bounded)};`,
      `const quadForm = ${quadFormSource(q)};`,
    );
  } else {
    for (const f of GENERIC_ITERATION) parts.push(f.toString());
    parts.push(
      `const solveStep = makeLoopSolver(${q});`,
      `const quadForm = makeLoopQuadForm(${q});`,
    );
  }
  parts.push(
    "return { create: (config, capacity) => createEngineState(kernel, covKernel, startKernel, ssr, solveStep, quadForm, config, capacity), runChunk };",
  );
  return `(() => {\n"use strict";\n${parts.join("\n")}\n})()`;
}

/** Compiles an engine's source (built from the model's SSA only). */
export function compileEngine(source: string): CompiledEngine {
  return new Function(`return ${source};`)() as CompiledEngine;
}

/**
 * The SSA of a Poisson problem: f, its first derivatives, and the second
 * derivatives of the free pairs (for Newton steps on the deviance).
 */
function secondOrderSsa(pr: BatchProblem): Ssa {
  const m = pr.model, d = m.derivatives!;
  const second: Node[] = [];
  pr.free.forEach((j, a) =>
    pr.free.slice(a).forEach((l) => second.push(simplify(derivative(d[j], l))))
  );
  return toSsa([simplify(m.ast!), ...d, ...second]);
}

/** The source of the engine of a problem. */
export function problemEngineSource(pr: BatchProblem): string {
  const poisson = pr.estimator === "poisson";
  return engineSource({
    ssa: poisson ? secondOrderSsa(pr) : modelSsa(pr.model),
    secondOrder: poisson,
    bounded: pr.lower !== null,
    nParams: pr.model.params.length,
    free: pr.free,
    estimator: pr.estimator,
    loss: pr.loss,
    fScale: pr.fScale,
  });
}
