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
import { declarationOf } from "../core/_function_source.ts";
import type { Node } from "../model/ast.ts";
import { derivative } from "../model/derivative.ts";
import { modelSsa } from "../model/model_ssa.ts";
import { simplify } from "../model/simplify.ts";
import { type Ssa, toSsa } from "../model/ssa.ts";
import type { BatchProblem } from "./_input.ts";
import { lossRho } from "../core/loss.ts";
import { batchKernelSources, type KernelSpec } from "./_kernel_source.ts";
import { iterateSources } from "./_iterate_source.ts";
import { wasmKernelSource } from "./_wasm_kernel.ts";
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
  runFit,
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

/**
 * Switches of the engine's code generation, for comparisons (the batch
 * benchmark's baseline): `wasm: false` keeps the JavaScript kernel where
 * the WebAssembly one would do.
 */
export const ENGINE_CHOICES: { wasm: boolean } = { wasm: true };

/** Replaced by generated versions for the unrolled orders. */
const GENERIC_ITERATION = { computeStep, iterateFit, runFit, standardErrors };

// By name: the generated code calls them by these names, whatever a bundler
// renamed them to (core/_function_source.ts).
const SOLVER_FUNCTIONS = {
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
};

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
  spec: KernelSpec & { readonly bounded: boolean; readonly nPoints?: number },
): string {
  const k = batchKernelSources(spec);
  // Two points per instruction where the model allows (least squares).
  const wasm = spec.nPoints === undefined || !ENGINE_CHOICES.wasm
    ? null
    : wasmKernelSource(spec, spec.nPoints);
  const parts = [k.helpers];
  if (spec.loss !== "linear" && spec.estimator === "lse") {
    parts.push(
      `const EPS = ${EPS};`,
      declarationOf("lossRho", lossRho),
      "const RHO = new Float64Array(3);",
    );
  }
  parts.push(
    `const kernel = ${wasm ?? k.kernel};`,
    `const covKernel = ${k.covKernel ?? "null"};`,
    `const startKernel = ${spec.secondOrder ? "covKernel" : "null"};`,
    `const ssr = ${k.ssr};`,
  );
  for (const [name, f] of Object.entries(SOLVER_FUNCTIONS)) {
    parts.push(declarationOf(name, f));
  }
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
    for (const [name, f] of Object.entries(GENERIC_ITERATION)) {
      parts.push(declarationOf(name, f));
    }
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

/** Sources by model and by the rest of what they are built from. */
const SOURCES = new WeakMap<BatchProblem["model"], Map<string, string>>();

/**
 * The source of the engine of a problem (kept per model: building it, the
 * WebAssembly module included, costs milliseconds, as much as fitting a
 * thousand small fits).
 */
export function problemEngineSource(pr: BatchProblem): string {
  const key = JSON.stringify([
    pr.free,
    pr.estimator,
    pr.loss,
    pr.fScale,
    pr.lower !== null,
    pr.nPoints,
    ENGINE_CHOICES.wasm,
  ]);
  let byKey = SOURCES.get(pr.model);
  if (byKey === undefined) {
    byKey = new Map();
    SOURCES.set(pr.model, byKey);
  }
  let source = byKey.get(key);
  if (source === undefined) {
    source = buildProblemSource(pr);
    if (byKey.size >= 8) byKey.delete(byKey.keys().next().value!);
    byKey.set(key, source);
  }
  return source;
}

function buildProblemSource(pr: BatchProblem): string {
  const poisson = pr.estimator === "poisson";
  return engineSource({
    ssa: poisson ? secondOrderSsa(pr) : modelSsa(pr.model),
    secondOrder: poisson,
    bounded: pr.lower !== null,
    nParams: pr.model.params.length,
    free: pr.free,
    nPoints: pr.nPoints,
    estimator: pr.estimator,
    loss: pr.loss,
    fScale: pr.fScale,
  });
}
