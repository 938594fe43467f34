/**
 * Which names of a model expression are variables (columns of the data file)
 * and which are parameters. A name the file has a column of is never fitted
 * as a parameter behind the user's back: it becomes the variable, or the
 * command stops with a message that says how to resolve it.
 *
 * @module
 */

import { model as compileModel } from "../model/model.ts";
import type { Model } from "../model/types.ts";
import type { ColumnRef } from "../data/source.ts";
import { UsageError } from "./args.ts";

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Whether `expression` uses `name` as a value (not as a function name).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.ok(usesName("a*exp(-b*t)", "t"));
 * assert.ok(!usesName("a*exp(-b*t)", "exp"));
 * assert.ok(!usesName("a*tt", "t"));
 * ```
 */
export function usesName(expression: string, name: string): boolean {
  return new RegExp(`(^|[^A-Za-z0-9_])${name}([^A-Za-z0-9_(]|$)`).test(
    expression,
  );
}

/**
 * The model's variable names for the selected x columns: `--vars` if given;
 * else the column names (an HDF5 path's last part) when they are identifiers
 * and the expression uses one of them; else `x` (one column) or `x0, x1, …`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.deepStrictEqual(resolveVariables("a*exp(-b*t)", ["t"]), ["t"]);
 * assert.deepStrictEqual(resolveVariables("a*x+b", ["time (s)"]), ["x"]);
 * assert.deepStrictEqual(resolveVariables("a*u+b*v", ["u", "v"]), ["u", "v"]);
 * assert.deepStrictEqual(resolveVariables("a*x0+b*x1", [0, 1]), ["x0", "x1"]);
 * assert.deepStrictEqual(resolveVariables("a*t", ["/g/t"]), ["t"]);
 * assert.deepStrictEqual(resolveVariables("a*s", [0], "s"), ["s"]);
 * ```
 *
 * @param expression The model expression.
 * @param columns The x columns (names or indices); default one column.
 * @param vars The `--vars` value, comma-separated.
 */
export function resolveVariables(
  expression: string,
  columns: readonly ColumnRef[] | undefined,
  vars?: string,
): string[] {
  const k = columns?.length ?? 1;
  if (vars !== undefined) {
    const names = vars.split(",").map((s) => s.trim());
    if (names.length !== k || names.some((s) => !IDENTIFIER.test(s))) {
      throw new UsageError(
        `--vars: expected ${k} variable name(s) (identifiers, comma-separated) for the x column(s), got ${
          JSON.stringify(vars)
        }`,
      );
    }
    return names;
  }
  if (columns) {
    const names = columns.map((c) =>
      typeof c === "string" ? c.split("/").filter(Boolean).at(-1) ?? c : ""
    );
    if (
      names.every((s) => IDENTIFIER.test(s)) &&
      new Set(names).size === names.length &&
      names.some((n) => usesName(expression, n))
    ) {
      return names;
    }
  }
  return k === 1 ? ["x"] : Array.from({ length: k }, (_, i) => `x${i}`);
}

/** What {@linkcode chooseVariables} is given: the user's column choices. */
export interface VariableRequest {
  /** The model expression. */
  expression: string;
  /** `--x`: the x columns, if given. */
  x?: readonly ColumnRef[];
  /** `--y`, if given (default column 1). */
  y?: ColumnRef;
  /** `--sigma`, if given. */
  sigma?: ColumnRef;
  /** `--vars`, if given. */
  vars?: string;
  /** The column names of the file (CSV/TSV header), when it has them. */
  header?: readonly string[];
  /** The file, for messages. */
  file?: string;
}

/** The result of {@linkcode chooseVariables}. */
export interface VariableChoice {
  /** The compiled model. */
  model: Model;
  /** Its variable names, one per x column. */
  variables: string[];
  /** The x columns to read (undefined: the source's default, column 0). */
  x: ColumnRef[] | undefined;
}

/**
 * Compiles the model with variables for the x columns. With the file's
 * column names known, a name of the model that is a column is never left a
 * parameter: without `--x`/`--vars` those columns become the x columns (and
 * variables, in the file's order); with them, or when such a column is the y
 * or sigma column, a {@linkcode UsageError} says how to resolve it.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const header = ["t", "y"];
 * const c = chooseVariables({ expression: "a*exp(-b*t)+c", header });
 * assert.deepStrictEqual(c.variables, ["t"]);
 * assert.deepStrictEqual(c.x, ["t"]);
 * assert.deepStrictEqual(c.model.params, ["a", "b", "c"]);
 * // An index selects the same column by its name.
 * assert.deepStrictEqual(
 *   chooseVariables({ expression: "a*t", x: [0], header }).variables,
 *   ["t"],
 * );
 * // Without names (NPY, raw), the variable is x.
 * assert.deepStrictEqual(chooseVariables({ expression: "a*x" }).variables, ["x"]);
 * assert.throws(
 *   () => chooseVariables({ expression: "a*u+t", x: ["u"], header: ["u", "t", "y"] }),
 *   /parameter "t" is also the name of a column/,
 * );
 * ```
 */
export function chooseVariables(request: VariableRequest): VariableChoice {
  const { expression, header } = request;
  const label = (ref: ColumnRef) =>
    typeof ref === "number" ? header?.[ref] ?? ref : ref;
  const x = request.x ? [...request.x] : undefined;
  const variables = resolveVariables(expression, x?.map(label), request.vars);
  const m = compileModel(expression, { variables });
  const named = header ? m.params.filter((p) => header.includes(p)) : [];
  // A column the file does not have: the data source names it, with the
  // columns there are.
  const refs = [...x ?? [], request.y, request.sigma];
  const unknown = refs.some((r) =>
    typeof r === "string" && !header?.includes(r)
  );
  if (named.length === 0 || unknown) return { model: m, variables, x };

  const file = request.file ?? "the data file";
  const q = (s: string | number) => JSON.stringify(s);
  if (x !== undefined || request.vars !== undefined) {
    const xLabels = (x ?? [0]).map(label);
    const k = xLabels.indexOf(named[0]);
    throw new UsageError(
      k >= 0
        ? `the model uses ${
          q(named[0])
        }, the name of the x column, but --vars names it ${
          q(variables[k])
        }: write the model in ${variables[k]}, or leave out --vars.`
        : `the model's parameter ${
          q(named[0])
        } is also the name of a column of ${file}, which is not an x column (x: ${
          xLabels.map(q).join(", ")
        }). To use the column, add it to --x${
          request.vars !== undefined ? " and --vars" : ""
        }; to fit a parameter, give it a name that is not a column's.`,
    );
  }
  const roles: [string, ColumnRef | undefined][] = [
    ["y", request.y ?? 1],
    ["sigma", request.sigma],
  ];
  for (const [role, ref] of roles) {
    const taken = ref === undefined
      ? undefined
      : named.find((n) => n === label(ref));
    if (taken !== undefined) {
      throw new UsageError(
        `the model uses ${
          q(taken)
        }, which is the ${role} column of ${file}. Choose the columns with --x and --${role}, or give the parameter a name that is not a column's.`,
      );
    }
  }
  const stray = variables.filter((v) =>
    usesName(expression, v) && !header!.includes(v)
  );
  if (stray.length > 0) {
    throw new UsageError(
      `the model uses ${stray.join(", ")} and the column(s) ${
        named.map(q).join(", ")
      } of ${file}; say which columns are variables with --x (and --vars).`,
    );
  }
  const columns = [...named].sort((a, b) =>
    header!.indexOf(a) - header!.indexOf(b)
  );
  return {
    model: compileModel(expression, { variables: columns }),
    variables: columns,
    x: columns,
  };
}
