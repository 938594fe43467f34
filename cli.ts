/**
 * The `nlsq` command line: `fit`, `batch`, `info` and `select`.
 *
 *     deno task fit --model "a * exp(-b * x) + c" --data data.csv
 *     deno run -A jsr:@nlsq/nlsq/cli info
 *     deno run -A jsr:@nlsq/nlsq/cli select --points 1e8 --params 5
 *
 * Exit codes: 0 success, 1 the fit did not converge, 2 bad input (unknown
 * option, missing argument, model syntax error, missing file or column, a
 * checkpoint that cannot be used, a plot that cannot be written), 3 an
 * internal error (a bug: printed with its stack), 130 interrupted (Ctrl-C).
 * Errors are told apart by their type (see cli/errors.ts), never by name.
 *
 * @module
 */

import { UsageError } from "./cli/args.ts";
import { describeError } from "./cli/errors.ts";
import { type CliIo, defaultIo } from "./cli/io.ts";
export type { CliIo } from "./cli/io.ts";
export { describeError, isInputError } from "./cli/errors.ts";
import denoJson from "./deno.json" with { type: "json" };

/** The top-level help text. */
export const MAIN_HELP: string = [
  "Usage: nlsq <command> [options]",
  "",
  "Nonlinear least-squares curve fitting at any scale.",
  "",
  "Commands:",
  "  fit      fit a model expression to a data file (.csv .tsv .npy .h5 ...)",
  "  info     show the Deno version, memory, WebGPU adapter, cluster and MPI",
  "  select   show the memory budget and the strategy for a problem size",
  "  batch    many fits of one model: NPY rows or CSV/TSV groups, one row out per fit",
  "",
  'Run "nlsq <command> --help" for the options of a command.',
  "",
  "Options:",
  "  -h, --help     show this help",
  "  -V, --version  show the version",
  "",
].join("\n");

function debugEnabled(): boolean {
  try {
    return Deno.permissions.querySync({ name: "env", variable: "NLSQ_DEBUG" })
          .state === "granted" && !!Deno.env.get("NLSQ_DEBUG");
  } catch {
    return false;
  }
}

/**
 * Runs the command line with `args` (without the program name) and returns
 * the exit code; output goes to `io`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const out: string[] = [];
 * const io = { out: (s: string) => out.push(s), err: (s: string) => out.push(s) };
 * assert.strictEqual(await main(["select", "--points", "1000", "--params", "3", "--memory-limit-gb", "4"], io), 0);
 * assert.match(out.join(""), /strategy += standard/);
 * assert.strictEqual(await main(["frobnicate"], io), 2);
 * ```
 *
 * @param args Command-line arguments, e.g. `Deno.args`.
 * @param io Where output goes (default: stdout and stderr).
 */
export async function main(
  args: readonly string[],
  io: CliIo = defaultIo,
): Promise<number> {
  const [command, ...rest] = args;
  try {
    switch (command) {
      case "fit": {
        const { fitCommand } = await import("./cli/fit_command.ts");
        return await fitCommand(rest, io);
      }
      case "batch": {
        const { batchCommand } = await import("./cli/batch_command.ts");
        return await batchCommand(rest, io);
      }
      case "info": {
        const { infoCommand } = await import("./cli/info_command.ts");
        return await infoCommand(rest, io);
      }
      case "select": {
        const { selectCommand } = await import("./cli/select_command.ts");
        return await selectCommand(rest, io);
      }
      case undefined:
      case "-h":
      case "--help":
      case "help":
        // Without a command it is a usage error: help goes to stderr.
        if (command === undefined) {
          io.err(MAIN_HELP);
          return 2;
        }
        io.out(MAIN_HELP);
        return 0;
      case "-V":
      case "--version":
        io.out(`nlsq ${denoJson.version}\n`);
        return 0;
      default:
        throw new UsageError(
          `unknown command ${JSON.stringify(command)}\n${MAIN_HELP}`,
        );
    }
  } catch (e) {
    const { code, text } = describeError(e);
    io.err(text);
    // Internal errors carry their stack already; input errors on demand.
    if (code === 2 && debugEnabled() && e instanceof Error && e.stack) {
      io.err(e.stack + "\n");
    }
    return code;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
