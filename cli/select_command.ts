/**
 * `nlsq select`: the memory budget of a problem size and the strategy the
 * `MemoryBudgetSelector` would pick for it, with the reason.
 *
 * @module
 */

import { MemoryBudgetSelector, type Selection } from "../memory/selector.ts";
import { OptimizationGoal } from "../workflow/goal.ts";
import {
  formatHelp,
  type OptionSpec,
  orList,
  parseChoice,
  parseCommandArgs,
  parseNumber,
  UsageError,
} from "./args.ts";
import { type CliIo, defaultIo } from "./io.ts";

const OPTIONS: Record<string, OptionSpec> = {
  points: {
    type: "string",
    short: "n",
    arg: "N",
    help: "number of data points (1e7, 10M and 10_000_000 all work; required)",
  },
  params: {
    type: "string",
    short: "p",
    arg: "P",
    help: "number of fitted parameters (required)",
  },
  features: {
    type: "string",
    arg: "F",
    help: "independent variables per point (default 1)",
  },
  "memory-limit-gb": {
    type: "string",
    arg: "M",
    help: "available memory in GB (default: detected)",
  },
  "dtype-bytes": {
    type: "string",
    arg: "B",
    help: "bytes per value: 8 (float64, default) or 4",
  },
  "safety-factor": {
    type: "string",
    arg: "S",
    help: "fraction of the memory to plan for, in (0, 1] (default 0.75)",
  },
  goal: {
    type: "string",
    arg: "G",
    help: orList(Object.values(OptimizationGoal)),
  },
  gpu: {
    type: "boolean",
    help: "budget against the GPU's memory too",
  },
  json: { type: "boolean", help: "print one JSON object" },
};

/** The help text of `nlsq select`. */
export const SELECT_HELP: string = formatHelp(
  "nlsq select --points N --params P [--features F] [--memory-limit-gb M]",
  [
    "Shows the memory budget of a fit of this size (data, Jacobian, peak,",
    "available memory and threshold, in GB) and the strategy the selector",
    "picks: standard when the peak fits, chunked when only the data fits,",
    "streaming otherwise.",
  ].join("\n"),
  OPTIONS,
);

/**
 * Formats a selection as a report.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { MemoryBudgetSelector } from "../memory/selector.ts";
 * const s = new MemoryBudgetSelector().select({
 *   nPoints: 10_000_000, nParams: 5, memoryLimitGb: 0.5,
 * });
 * const text = formatSelection(s, { nPoints: 10_000_000, nParams: 5, nFeatures: 1, dtypeBytes: 8, safetyFactor: 0.75 });
 * assert.match(text, /strategy += chunked/);
 * assert.match(text, /peak += 0\.7333 GB/);
 * ```
 */
export function formatSelection(
  s: Selection,
  problem: {
    nPoints: number;
    nParams: number;
    nFeatures: number;
    dtypeBytes: number;
    safetyFactor: number;
  },
): string {
  const b = s.budget;
  const lines: string[] = [];
  const kv = (k: string, v: string) => lines.push(`    ${k.padEnd(19)}= ${v}`);
  const fmt = (v: number) => `${v.toFixed(4)} GB`;
  lines.push("[[Problem]]");
  kv("points", `${problem.nPoints}`);
  kv("parameters", `${problem.nParams}`);
  kv("features", `${problem.nFeatures}`);
  kv("bytes per value", `${problem.dtypeBytes}`);
  lines.push("[[Memory Budget]]");
  kv("data", fmt(b.dataGb));
  kv("Jacobian", fmt(b.jacobianGb));
  kv("peak", `${fmt(b.peakGb)} (data + 1.3 x Jacobian + 0.1 GB)`);
  kv("available", `${fmt(b.availableGb)} (from ${b.source})`);
  kv(
    "threshold",
    `${fmt(b.thresholdGb)} (safety factor ${problem.safetyFactor})`,
  );
  kv("fits in memory", `${b.fitsInMemory}`);
  kv("data fits", `${b.dataFits}`);
  for (const note of b.notes) kv("note", note);
  lines.push("[[Strategy]]");
  kv("strategy", s.strategy);
  if (s.strategy === "chunked") kv("chunk size", `${s.config.chunkSize} rows`);
  if (s.strategy === "streaming") {
    kv("batch size", `${s.config.batchSize} rows`);
  }
  if (s.goal !== undefined) kv("goal", s.goal);
  kv("reason", s.reason);
  return lines.join("\n") + "\n";
}

/**
 * Runs `nlsq select` and returns the exit code.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const out: string[] = [];
 * const code = await selectCommand(
 *   ["--points", "10M", "--params", "5", "--memory-limit-gb", "0.1", "--json"],
 *   { out: (s) => out.push(s), err: () => {} },
 * );
 * assert.strictEqual(code, 0);
 * assert.strictEqual(JSON.parse(out.join("")).strategy, "streaming");
 * ```
 *
 * @param args Arguments after `select`.
 * @param io Where output goes.
 */
export function selectCommand(
  args: readonly string[],
  io: CliIo = defaultIo,
): Promise<number> {
  const o = parseCommandArgs("select", args, OPTIONS);
  if (o.help) {
    io.out(SELECT_HELP);
    return Promise.resolve(0);
  }
  const get = (k: string) => (typeof o[k] === "string" ? o[k] : undefined);
  if (get("points") === undefined || get("params") === undefined) {
    throw new UsageError(
      `missing ${
        get("points") === undefined ? "--points N" : "--params P"
      }\nRun "nlsq select --help" for the options.`,
    );
  }
  const nPoints = parseNumber("--points", get("points")!, {
    integer: true,
    min: 1,
    sizes: true,
  });
  const nParams = parseNumber("--params", get("params")!, {
    integer: true,
    min: 1,
  });
  const nFeatures = get("features") === undefined
    ? 1
    : parseNumber("--features", get("features")!, { integer: true, min: 1 });
  const memoryLimitGb = get("memory-limit-gb") === undefined
    ? undefined
    : parseNumber("--memory-limit-gb", get("memory-limit-gb")!, {
      positive: true,
    });
  const dtypeBytes = get("dtype-bytes") === undefined
    ? 8
    : Number(parseChoice("--dtype-bytes", get("dtype-bytes")!, ["8", "4"]));
  const safetyFactor = get("safety-factor") === undefined
    ? 0.75
    : parseNumber("--safety-factor", get("safety-factor")!, {
      positive: true,
    });
  if (safetyFactor > 1) {
    throw new UsageError(
      `--safety-factor: must be in (0, 1], got ${safetyFactor}`,
    );
  }
  const s = new MemoryBudgetSelector({ safetyFactor }).select({
    nPoints,
    nParams,
    nFeatures,
    dtypeBytes,
    memoryLimitGb,
    goal: get("goal"),
    useGpu: o.gpu === true,
  });
  if (o.json) {
    const b = s.budget;
    io.out(
      JSON.stringify(
        {
          nPoints,
          nParams,
          nFeatures,
          dtypeBytes,
          safetyFactor,
          budget: {
            availableGb: b.availableGb,
            thresholdGb: b.thresholdGb,
            dataGb: b.dataGb,
            jacobianGb: b.jacobianGb,
            peakGb: b.peakGb,
            fitsInMemory: b.fitsInMemory,
            dataFits: b.dataFits,
            source: b.source,
            notes: b.notes,
          },
          strategy: s.strategy,
          config: s.config,
          goal: s.goal ?? null,
          reason: s.reason,
        },
        null,
        2,
      ) + "\n",
    );
  } else {
    io.out(
      formatSelection(s, {
        nPoints,
        nParams,
        nFeatures,
        dtypeBytes,
        safetyFactor,
      }),
    );
  }
  return Promise.resolve(0);
}
