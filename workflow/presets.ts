/**
 * Workflow presets: named bundles of strategy, tolerance, multi-start,
 * validation and checkpoint settings, selected with `fit(..., { workflow })`.
 *
 * @module
 */

import {
  type AdaptiveTolerances,
  calculateAdaptiveTolerances,
} from "./tolerances.ts";
import type { OptimizationGoal } from "./goal.ts";
import {
  isSamplerName,
  SAMPLER_NAMES,
  type SamplerName,
} from "../sampling/samplers.ts";
import { assertBoolean, assertInteger, assertObject } from "./_validate.ts";

/**
 * Strategies a workflow can name without a registry: `"auto"` lets the
 * `MemoryBudgetSelector` decide; the others are the built-in strategies.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * assert.ok(BUILTIN_WORKFLOW_STRATEGIES.includes("chunked"));
 * ```
 */
export const BUILTIN_WORKFLOW_STRATEGIES: readonly [
  "auto",
  "standard",
  "chunked",
  "streaming",
  "distributed",
] = Object.freeze(
  ["auto", "standard", "chunked", "streaming", "distributed"] as const,
);

/**
 * A built-in workflow strategy name.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * const s: WorkflowStrategyName = "distributed";
 * assert.strictEqual(s, "distributed");
 * ```
 */
export type WorkflowStrategyName = typeof BUILTIN_WORKFLOW_STRATEGIES[number];

/**
 * Multi-start settings: `nStarts` starting points (p0 first) drawn by
 * `sampler`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * const ms: MultiStartConfig = WORKFLOW_PRESETS.quality.multiStart!;
 * assert.deepStrictEqual(ms, { nStarts: 20, sampler: "lhs" });
 * ```
 */
export interface MultiStartConfig {
  /** Number of starting points (p0 first). */
  readonly nStarts: number;
  /** Sampler drawing the other starting points. */
  readonly sampler: SamplerName;
}

/**
 * A complete workflow.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * const w: WorkflowConfig = resolveWorkflow("fast");
 * assert.strictEqual(w.tolerance, 1e-6);
 * ```
 */
export interface WorkflowConfig {
  /** The preset's name, or the custom workflow's. */
  readonly name: string;
  /** One sentence for logs and docs. */
  readonly description: string;
  /** `"auto"` (memory selector), a built-in or a registered strategy. */
  readonly strategy: WorkflowStrategyName | (string & Record<never, never>);
  /** `ftol = xtol = gtol`, or `"adaptive"` for {@linkcode calculateAdaptiveTolerances}. */
  readonly tolerance: number | "adaptive";
  /** Multi-start settings, or null for a single start from p0. */
  readonly multiStart: MultiStartConfig | null;
  /** Re-run a final validation fit from the best solution. */
  readonly validate: boolean;
  /** Write checkpoints (to `createCheckpointDirectory()` unless `checkpointDir`). */
  readonly checkpoints: boolean;
  /**
   * Search the bounds globally first (BIPOP-CMA-ES, `core/global_search.ts`),
   * then fit from the best points found (needs finite bounds). Default false.
   */
  readonly globalSearch?: boolean;
  /**
   * Strategy configuration passed to the strategy (e.g. `{ chunkSize }` for
   * "chunked", `{ batchSize }` for "streaming"); absent: sized from the
   * memory budget.
   */
  readonly config?: Readonly<Record<string, unknown>> | null;
}

/**
 * A custom workflow: any {@linkcode WorkflowConfig} fields on top of the preset
 * named by `extends` (default `"auto"`).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * const input: WorkflowInput = { extends: "quality", tolerance: 1e-12 };
 * assert.strictEqual(resolveWorkflow(input).multiStart?.nStarts, 20);
 * ```
 */
export type WorkflowInput = Partial<WorkflowConfig> & { extends?: PresetName };

/**
 * Names of the presets.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * const name: PresetName = "hpc_distributed";
 * assert.ok(name in WORKFLOW_PRESETS);
 * ```
 */
export type PresetName =
  | "auto"
  | "standard"
  | "quality"
  | "fast"
  | "large_robust"
  | "streaming"
  | "hpc_distributed"
  | "global";

function preset(config: WorkflowConfig): WorkflowConfig {
  if (config.multiStart !== null) Object.freeze(config.multiStart);
  return Object.freeze(config);
}

/**
 * The workflow presets (frozen):
 *
 * | name            | strategy    | tolerance | multi-start | validate | checkpoints |
 * |-----------------|-------------|-----------|-------------|----------|-------------|
 * | auto            | auto        | adaptive  | -           | no       | no          |
 * | standard        | standard    | 1e-8      | -           | no       | no          |
 * | quality         | auto        | 1e-10     | 20 (lhs)    | yes      | no          |
 * | fast            | auto        | 1e-6      | -           | no       | no          |
 * | large_robust    | chunked     | 1e-8      | 10 (lhs)    | no       | no          |
 * | streaming       | streaming   | 1e-7      | -           | no       | no          |
 * | hpc_distributed | distributed | 1e-6      | -           | no       | yes         |
 * | global          | auto        | adaptive  | CMA-ES, 5   | no       | no          |
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * assert.deepStrictEqual(Object.keys(WORKFLOW_PRESETS), [
 *   "auto", "standard", "quality", "fast", "large_robust", "streaming", "hpc_distributed",
 *   "global",
 * ]);
 * assert.strictEqual(WORKFLOW_PRESETS.hpc_distributed.checkpoints, true);
 * assert.ok(Object.isFrozen(WORKFLOW_PRESETS.quality));
 * ```
 */
export const WORKFLOW_PRESETS: Readonly<Record<PresetName, WorkflowConfig>> =
  Object.freeze({
    auto: preset({
      name: "auto",
      description:
        "memory-based strategy selection with tolerances adapted to the data size",
      strategy: "auto",
      tolerance: "adaptive",
      multiStart: null,
      validate: false,
      checkpoints: false,
    }),
    standard: preset({
      name: "standard",
      description: "one in-memory fit from p0 with tolerance 1e-8",
      strategy: "standard",
      tolerance: 1e-8,
      multiStart: null,
      validate: false,
      checkpoints: false,
    }),
    quality: preset({
      name: "quality",
      description:
        "tight tolerance 1e-10, 20 Latin-hypercube starts and a validation fit",
      strategy: "auto",
      tolerance: 1e-10,
      multiStart: { nStarts: 20, sampler: "lhs" },
      validate: true,
      checkpoints: false,
    }),
    fast: preset({
      name: "fast",
      description: "loose tolerance 1e-6, one start",
      strategy: "auto",
      tolerance: 1e-6,
      multiStart: null,
      validate: false,
      checkpoints: false,
    }),
    large_robust: preset({
      name: "large_robust",
      description:
        "chunked Jacobian with tolerance 1e-8 and 10 Latin-hypercube starts",
      strategy: "chunked",
      tolerance: 1e-8,
      multiStart: { nStarts: 10, sampler: "lhs" },
      validate: false,
      checkpoints: false,
    }),
    streaming: preset({
      name: "streaming",
      description: "data streamed from its source in batches, tolerance 1e-7",
      strategy: "streaming",
      tolerance: 1e-7,
      multiStart: null,
      validate: false,
      checkpoints: false,
    }),
    hpc_distributed: preset({
      name: "hpc_distributed",
      description:
        "one data shard per MPI rank, tolerance 1e-6, checkpoints written",
      strategy: "distributed",
      tolerance: 1e-6,
      multiStart: null,
      validate: false,
      checkpoints: true,
      // Cluster detection feeds the distributed configuration.
      config: Object.freeze({ detectCluster: true }),
    }),
    global: preset({
      name: "global",
      description:
        "CMA-ES with BIPOP restarts inside the bounds, then a fit from its best points",
      strategy: "auto",
      tolerance: "adaptive",
      multiStart: null,
      validate: false,
      checkpoints: false,
      globalSearch: true,
    }),
  });

const PRESET_NAMES = Object.keys(WORKFLOW_PRESETS) as PresetName[];

/**
 * Whether `name` is a key of {@linkcode WORKFLOW_PRESETS}.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(isPresetName("quality"), true);
 * assert.strictEqual(isPresetName("chunked"), false);
 * ```
 */
export function isPresetName(name: unknown): name is PresetName {
  return typeof name === "string" && Object.hasOwn(WORKFLOW_PRESETS, name);
}

/**
 * Options of {@linkcode resolveWorkflow}.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * const options: ResolveWorkflowOptions = { isStrategyName: (n) => n === "mine" };
 * assert.strictEqual(resolveWorkflow("mine", options).strategy, "mine");
 * ```
 */
export interface ResolveWorkflowOptions {
  /** Whether a registered (non built-in) strategy has this name. */
  isStrategyName?: (name: string) => boolean;
}

const CONFIG_KEYS = new Set([
  "extends",
  "name",
  "description",
  "strategy",
  "tolerance",
  "multiStart",
  "validate",
  "checkpoints",
  "globalSearch",
  "config",
]);

/**
 * Resolves `fit`'s `workflow` option to a complete, frozen
 * {@linkcode WorkflowConfig}:
 *
 * - `undefined`: the `auto` preset;
 * - a preset name: that preset;
 * - a strategy name (built-in, or accepted by `isStrategyName`): that strategy
 *   with adaptive tolerances and one start;
 * - an object: its fields over the preset named by `extends` (default `auto`).
 *
 * @example Names and objects
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(resolveWorkflow(undefined), WORKFLOW_PRESETS.auto);
 * assert.strictEqual(resolveWorkflow("chunked").strategy, "chunked");
 * const custom = resolveWorkflow({ extends: "large_robust", multiStart: null });
 * assert.strictEqual(custom.strategy, "chunked");
 * assert.strictEqual(custom.multiStart, null);
 * assert.throws(() => resolveWorkflow("qualty"), /workflow must be one of/);
 * ```
 *
 * @throws {TypeError} An unknown name (the message lists the valid ones), an
 * unknown field, or a field of the wrong type.
 * @throws {RangeError} `tolerance` outside (0, 1) or `multiStart.nStarts` not
 * an integer >= 1.
 */
export function resolveWorkflow(
  workflow: string | WorkflowInput | undefined,
  options: ResolveWorkflowOptions = {},
): WorkflowConfig {
  const isStrategy = (name: string) =>
    (BUILTIN_WORKFLOW_STRATEGIES as readonly string[]).includes(name) ||
    options.isStrategyName?.(name) === true;
  if (workflow === undefined) return WORKFLOW_PRESETS.auto;
  if (typeof workflow === "string") {
    if (isPresetName(workflow)) return WORKFLOW_PRESETS[workflow];
    if (isStrategy(workflow)) {
      return preset({
        name: workflow,
        description: `the ${workflow} strategy with adaptive tolerances`,
        strategy: workflow,
        tolerance: "adaptive",
        multiStart: null,
        validate: false,
        checkpoints: false,
      });
    }
    throw new TypeError(
      `workflow must be one of ${
        PRESET_NAMES.join(", ")
      } or a registered strategy name, got "${workflow}"`,
    );
  }
  const input = assertObject("workflow", workflow);
  for (const key of Object.keys(input)) {
    if (!CONFIG_KEYS.has(key)) {
      throw new TypeError(
        `workflow.${key} is not a workflow field (expected ${
          [...CONFIG_KEYS].join(", ")
        })`,
      );
    }
  }
  const baseName = input.extends ?? "auto";
  if (!isPresetName(baseName)) {
    throw new TypeError(
      `workflow.extends must be one of ${PRESET_NAMES.join(", ")}, got "${
        String(baseName)
      }"`,
    );
  }
  const base = WORKFLOW_PRESETS[baseName];
  const name = input.name ?? "custom";
  if (typeof name !== "string") {
    throw new TypeError("workflow.name must be a string");
  }
  const description = input.description ??
    `custom workflow based on "${baseName}"`;
  if (typeof description !== "string") {
    throw new TypeError("workflow.description must be a string");
  }
  const strategy = input.strategy ?? base.strategy;
  if (typeof strategy !== "string" || !isStrategy(strategy)) {
    throw new TypeError(
      `workflow.strategy must be one of ${
        BUILTIN_WORKFLOW_STRATEGIES.join(", ")
      } or a registered strategy name, got "${String(strategy)}"`,
    );
  }
  const tolerance = input.tolerance ?? base.tolerance;
  if (tolerance !== "adaptive") {
    if (typeof tolerance !== "number") {
      throw new TypeError(
        `workflow.tolerance must be a number or "adaptive", got ${
          JSON.stringify(tolerance)
        }`,
      );
    }
    if (!(tolerance > 0 && tolerance < 1)) {
      throw new RangeError(
        `workflow.tolerance must be in (0, 1), got ${tolerance}`,
      );
    }
  }
  const multiStart = input.multiStart === undefined
    ? base.multiStart
    : multiStartConfig(input.multiStart);
  return preset({
    name,
    description,
    strategy,
    tolerance,
    multiStart: multiStart === null ? null : { ...multiStart },
    validate: assertBoolean(
      "workflow.validate",
      input.validate ?? base.validate,
    ),
    globalSearch: assertBoolean(
      "workflow.globalSearch",
      input.globalSearch ?? base.globalSearch ?? false,
    ),
    checkpoints: assertBoolean(
      "workflow.checkpoints",
      input.checkpoints ?? base.checkpoints,
    ),
    config: input.config === undefined || input.config === null
      ? (base.config ?? null)
      : Object.freeze({ ...assertObject("workflow.config", input.config) }),
  });
}

function multiStartConfig(value: unknown): MultiStartConfig | null {
  if (value === null) return null;
  const object = assertObject("workflow.multiStart", value);
  for (const key of Object.keys(object)) {
    if (key !== "nStarts" && key !== "sampler") {
      throw new TypeError(
        `workflow.multiStart.${key} is not a multi-start field (expected nStarts, sampler)`,
      );
    }
  }
  const nStarts = assertInteger(
    "workflow.multiStart.nStarts",
    object.nStarts,
    1,
  );
  const sampler = object.sampler ?? "lhs";
  if (!isSamplerName(sampler)) {
    throw new TypeError(
      `workflow.multiStart.sampler must be one of ${
        SAMPLER_NAMES.join(", ")
      }, got "${String(sampler)}"`,
    );
  }
  return { nStarts, sampler };
}

/**
 * The tolerances a workflow asks for: its fixed `tolerance` for `ftol`,
 * `xtol` and `gtol`, or, for `"adaptive"`, {@linkcode calculateAdaptiveTolerances}
 * of the data size and goal (the goal shifts adaptive tolerances only).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * assert.deepStrictEqual(
 *   workflowTolerances(WORKFLOW_PRESETS.auto, 5_000_000, "quality"),
 *   { gtol: 1e-8, ftol: 1e-8, xtol: 1e-8 },
 * );
 * assert.strictEqual(workflowTolerances(WORKFLOW_PRESETS.fast, 10).ftol, 1e-6);
 * ```
 *
 * @throws {RangeError} `nPoints` is not an integer >= 1.
 */
export function workflowTolerances(
  workflow: WorkflowConfig,
  nPoints: number,
  goal?: OptimizationGoal | string,
): AdaptiveTolerances {
  if (workflow.tolerance === "adaptive") {
    return calculateAdaptiveTolerances(nPoints, goal);
  }
  assertInteger("nPoints", nPoints, 1);
  const tol = workflow.tolerance;
  return { gtol: tol, ftol: tol, xtol: tol };
}
