/**
 * How the command line tells bad input from a bug: by the error's type, never
 * by its name or message. The library's typed input errors, the built-in
 * argument errors it throws (`TypeError`, `RangeError`) and the file-system
 * errors of a wrong path exit with 2 and a one-line message; a Ctrl-C exits
 * with 130; anything else is an internal error (exit 3, with the stack).
 *
 * @module
 */

import { UsageError } from "./args.ts";
import { ModelSyntaxError } from "../model/syntax_error.ts";
import { DataSourceError } from "../data/data_source_error.ts";
import { CheckpointError } from "../checkpoint/checkpoint.ts";
import { GpuUnavailableError } from "../gpu/errors.ts";
import { HostlistSyntaxError } from "../cluster/hostlist.ts";
import {
  MpiPermissionError,
  MpiUnavailableError,
} from "../cluster/mpi_errors.ts";

/**
 * The fit was stopped by the user (SIGINT, Ctrl-C): the reason the command
 * line aborts the fit with, so that it recognizes the error the fit rejects
 * with by identity. Exit code 130 (128 + SIGINT), like a shell.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const e = new InterruptedError();
 * assert.strictEqual(e.exitCode, 130);
 * assert.strictEqual(describeError(e).code, 130);
 * ```
 */
export class InterruptedError extends Error {
  /** The exit code of an interrupted command. */
  readonly exitCode = 130;

  /** @param message What was interrupted. */
  constructor(message = "interrupted") {
    super(message);
    this.name = "InterruptedError";
  }
}

// Error classes whose instances mean bad input or a wrong environment (exit
// 2). TypeError and RangeError are how the library rejects bad arguments; a
// bug's engine TypeError ("x is undefined") has the same type and is then
// reported as input too, until the library's argument errors get a class of
// their own. ModelSyntaxError and HostlistSyntaxError are SyntaxErrors, but a
// bare SyntaxError (a bug's) is not input.
type ErrorClass = abstract new (...args: never[]) => Error;
const INPUT_ERRORS: readonly ErrorClass[] = [
  UsageError,
  ModelSyntaxError,
  DataSourceError,
  CheckpointError,
  HostlistSyntaxError,
  GpuUnavailableError,
  MpiUnavailableError,
  MpiPermissionError,
  TypeError,
  RangeError,
  Deno.errors.NotFound,
  Deno.errors.PermissionDenied,
  Deno.errors.NotCapable,
  Deno.errors.AlreadyExists,
  Deno.errors.IsADirectory,
  Deno.errors.NotADirectory,
  Deno.errors.InvalidData,
  Deno.errors.UnexpectedEof,
];

/**
 * Whether `e` means bad input (or a missing capability of the environment)
 * rather than a bug: an instance of one of the library's typed input errors,
 * `TypeError`/`RangeError`, or a file-system error of a wrong path.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { DataSourceError } from "@nlsq/nlsq";
 * assert.ok(isInputError(new DataSourceError("column", "no column t")));
 * assert.ok(isInputError(new Deno.errors.NotFound("no such file")));
 * assert.ok(!isInputError(new Error("boom")));
 * // The name is not the type.
 * const fake = Object.assign(new Error("x"), { name: "DataSourceError" });
 * assert.ok(!isInputError(fake));
 * ```
 */
export function isInputError(e: unknown): boolean {
  return INPUT_ERRORS.some((cls) => e instanceof cls);
}

/**
 * The message and exit code for an error that escaped a command: input
 * errors exit with 2 and print their message on one line (model syntax
 * errors keep their caret line); an {@linkcode InterruptedError} exits with
 * 130; anything else is an internal error (3), printed with its stack.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.deepStrictEqual(describeError(new RangeError("p0 has length 2")), {
 *   code: 2,
 *   text: "nlsq: error: p0 has length 2\n",
 * });
 * const bug = describeError(new Error("boom"));
 * assert.strictEqual(bug.code, 3);
 * assert.match(bug.text, /^nlsq: internal error: Error: boom\n/);
 * assert.match(bug.text, /please report it/);
 * ```
 */
export function describeError(e: unknown): { code: number; text: string } {
  if (e instanceof InterruptedError) {
    return { code: 130, text: `nlsq: ${e.message}\n` };
  }
  if (isInputError(e)) {
    const err = e as Error;
    const prefix = err instanceof ModelSyntaxError
      ? "model syntax error: "
      : "";
    return { code: 2, text: `nlsq: error: ${prefix}${err.message}\n` };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  const stack = err.stack?.split("\n").slice(1).join("\n");
  return {
    code: 3,
    text: `nlsq: internal error: ${err.name}: ${err.message}\n` +
      (stack ? `${stack}\n` : "") +
      "(this is a bug of nlsq; please report it with the lines above)\n",
  };
}
