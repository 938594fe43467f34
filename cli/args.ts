/**
 * Argument parsing shared by the commands of the command line: a strict
 * wrapper around `node:util`'s `parseArgs` whose errors become
 * {@linkcode UsageError}s (exit code 2), and parsers for the small value
 * languages of the options (`a=1,b=2`, `b=0:10`, column lists, sizes).
 *
 * @module
 */

import { parseArgs } from "node:util";

/**
 * Bad command-line input: an unknown option, a missing or malformed value.
 * The command line prints the message (no stack trace) and exits with 2.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const err = new UsageError("missing --model");
 * assert.strictEqual(err.name, "UsageError");
 * assert.strictEqual(err.exitCode, 2);
 * ```
 */
export class UsageError extends Error {
  /** The exit code of bad input. */
  readonly exitCode = 2;

  /**
   * @param message What is wrong, phrased for the user.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UsageError";
  }
}

/** One option of a command, as `parseArgs` takes it, plus its help line. */
export interface OptionSpec {
  /**
   * `"string"` takes a value, `"boolean"` is a flag, `"count"` a flag that
   * counts its repetitions (`-v` 1, `-vv` or `-v -v` 2; `--verbose=N` and
   * `--verbose N` give the count directly).
   */
  type: "string" | "boolean" | "count";
  /** One-letter alias. */
  short?: string;
  /** Placeholder of the value in the help text, e.g. `"FILE"`. */
  arg?: string;
  /** One line of help. */
  help: string;
}

/**
 * The parsed options: strings for valued options, booleans for flags,
 * numbers for counting flags.
 */
export type ParsedOptions = Record<
  string,
  string | boolean | number | undefined
>;

/**
 * Parses `args` strictly against `specs`: unknown options, missing values and
 * stray positional arguments throw a {@linkcode UsageError} that names the
 * command. `--help`/`-h` is always accepted.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const specs: Record<string, OptionSpec> = {
 *   points: { type: "string", help: "number of points" },
 *   json: { type: "boolean", help: "print JSON" },
 * };
 * const o = parseCommandArgs("select", ["--points", "10", "--json"], specs);
 * assert.deepStrictEqual(o, { points: "10", json: true });
 * assert.throws(
 *   () => parseCommandArgs("select", ["--pionts", "10"], specs),
 *   (e: unknown) => e instanceof UsageError && /--pionts/.test(e.message),
 * );
 * const v = { verbose: { type: "count", short: "v", help: "log more" } } as const;
 * assert.strictEqual(parseCommandArgs("fit", ["-vv"], v).verbose, 2);
 * assert.strictEqual(parseCommandArgs("fit", ["-v", "--verbose"], v).verbose, 2);
 * assert.strictEqual(parseCommandArgs("fit", ["--verbose", "1"], v).verbose, 1);
 * assert.strictEqual(parseCommandArgs("fit", [], v).verbose, undefined);
 * ```
 */
export function parseCommandArgs(
  command: string,
  args: readonly string[],
  specs: Record<string, OptionSpec>,
): ParsedOptions {
  const options: Record<
    string,
    { type: "string" | "boolean"; short?: string; multiple?: boolean }
  > = { help: { type: "boolean", short: "h" } };
  for (const [name, spec] of Object.entries(specs)) {
    options[name] = {
      type: spec.type === "count" ? "boolean" : spec.type,
      ...(spec.short ? { short: spec.short } : {}),
      ...(spec.type === "count" ? { multiple: true } : {}),
    };
  }
  const joined = joinValues(args, specs);
  try {
    const { values } = parseArgs({
      args: joined,
      options,
      strict: true,
      allowPositionals: false,
      allowNegative: false,
    });
    const parsed: ParsedOptions = {};
    for (const [name, value] of Object.entries(values)) {
      parsed[name] = Array.isArray(value) ? value.length : value;
    }
    return parsed;
  } catch (e) {
    // node:util's messages are good, but end in advice for Node's own API
    // ("To specify an option argument starting with a dash..."): keep the
    // first sentence and point at the command's help instead.
    const msg = (e as Error).message;
    let first = msg.split(/\.\s|\n/)[0].replace(/\.$/, "");
    const dash = /^Option '(-[^']*)' argument is ambiguous/.exec(msg);
    if (dash) {
      const name = dash[1].split(",").at(-1)!.trim();
      first =
        `${name} is missing its value (for a value starting with "-", write ${name}=-VALUE)`;
    }
    throw new UsageError(
      `${first}\nRun "nlsq ${command} --help" for the options.`,
      { cause: e },
    );
  }
}

/**
 * Prepares `args` for `parseArgs`: a value starting with "-" joins its option
 * (`--p0 -1,2` would need `--p0=-1,2`; negative numbers are common values
 * here), and a counting flag given a number (`--verbose 2`, `--verbose=2`,
 * `-v 2`) becomes that many flags.
 */
function joinValues(
  args: readonly string[],
  specs: Record<string, OptionSpec>,
): string[] {
  const stringOptions = new Set<string>();
  const countOptions = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) {
    const flags = [`--${name}`, ...(spec.short ? [`-${spec.short}`] : [])];
    for (const f of flags) {
      if (spec.type === "string") stringOptions.add(f);
      if (spec.type === "count") countOptions.set(f, `--${name}`);
    }
  }
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const next = args[i + 1];
    const eq = /^(--[^=]+)=(\d+)$/.exec(args[i]);
    if (eq && countOptions.has(eq[1])) {
      joined.push(...Array(Number(eq[2])).fill(eq[1]));
    } else if (
      countOptions.has(args[i]) && next !== undefined && /^\d+$/.test(next)
    ) {
      joined.push(...Array(Number(next)).fill(countOptions.get(args[i])!));
      i++;
    } else if (
      stringOptions.has(args[i]) && next !== undefined &&
      /^-(\d|\.\d|inf)/i.test(next)
    ) {
      joined.push(`${args[i]}=${next}`);
      i++;
    } else joined.push(args[i]);
  }
  return joined;
}

/**
 * The help text of a command: usage line, description and one line per
 * option, aligned.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const text = formatHelp("nlsq select --points N", "Shows the budget.", {
 *   points: { type: "string", arg: "N", help: "number of points" },
 * });
 * assert.match(text, /--points N\s+number of points/);
 * assert.match(text, /-h, --help/);
 * ```
 */
export function formatHelp(
  usage: string,
  description: string,
  specs: Record<string, OptionSpec>,
): string {
  const rows: [string, string][] = Object.entries(specs).map(
    ([name, spec]) => [
      `${spec.short ? `-${spec.short}, ` : "    "}--${name}${
        spec.arg ? ` ${spec.arg}` : ""
      }`,
      spec.help,
    ],
  );
  rows.push(["-h, --help", "show this help"]);
  const width = Math.max(...rows.map(([l]) => l.length));
  return [
    `Usage: ${usage}`,
    "",
    description,
    "",
    "Options:",
    ...rows.map(([l, h]) => `  ${l.padEnd(width)}  ${h}`),
    "",
  ].join("\n");
}

const SIZE_SUFFIX: Record<string, number> = {
  k: 1e3,
  K: 1e3,
  m: 1e6,
  M: 1e6,
  g: 1e9,
  G: 1e9,
  b: 1e9,
  B: 1e9,
  t: 1e12,
  T: 1e12,
};

/** Constraints of {@linkcode parseNumber}. */
export interface NumberConstraints {
  /** Require an integer. */
  integer?: boolean;
  /** Smallest value allowed (inclusive). */
  min?: number;
  /** Require a value > 0. */
  positive?: boolean;
  /** Accept `k`/`M`/`G`/`T` suffixes and `_` separators (`10M`, `1_000`). */
  sizes?: boolean;
}

/**
 * Parses the value of a numeric option, with a message naming the option.
 * Accepts `inf`/`-inf`; with `sizes`, also `10M`, `2.5k`, `1_000_000`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(parseNumber("--points", "10M", { integer: true, sizes: true }), 1e7);
 * assert.strictEqual(parseNumber("--ftol", "1e-10"), 1e-10);
 * assert.throws(() => parseNumber("--max-nfev", "ten", { integer: true }), UsageError);
 * ```
 */
export function parseNumber(
  option: string,
  text: string,
  constraints: NumberConstraints = {},
): number {
  let t = text.trim();
  let scale = 1;
  if (constraints.sizes) {
    t = t.replaceAll("_", "");
    const suffix = t.at(-1) ?? "";
    if (suffix in SIZE_SUFFIX) {
      scale = SIZE_SUFFIX[suffix];
      t = t.slice(0, -1);
    }
  }
  const v = parseFloatStrict(t) * scale;
  if (Number.isNaN(v)) {
    throw new UsageError(
      `${option}: expected a number, got ${JSON.stringify(text)}`,
    );
  }
  if (constraints.integer && !Number.isSafeInteger(v)) {
    throw new UsageError(
      `${option}: expected an integer, got ${JSON.stringify(text)}`,
    );
  }
  if (constraints.positive && !(v > 0)) {
    throw new UsageError(`${option}: must be > 0, got ${text}`);
  }
  if (constraints.min !== undefined && v < constraints.min) {
    throw new UsageError(
      `${option}: must be >= ${constraints.min}, got ${text}`,
    );
  }
  return v;
}

/** `Number()` without its surprises: "" and " " are not 0; inf is allowed. */
function parseFloatStrict(t: string): number {
  const s = t.trim().toLowerCase();
  if (s === "") return NaN;
  if (/^[+]?(inf|infinity)$/.test(s)) return Infinity;
  if (/^-(inf|infinity)$/.test(s)) return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(s)) return NaN;
  return Number(s);
}

/**
 * Parses a comma-separated column list: integers become 0-based indices,
 * anything else stays a name (CSV header, HDF5 dataset path).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.deepStrictEqual(parseColumns("--x", "t, 2"), ["t", 2]);
 * assert.throws(() => parseColumns("--x", "a,,b"), UsageError);
 * ```
 */
export function parseColumns(
  option: string,
  text: string,
): (string | number)[] {
  const parts = text.split(",").map((s) => s.trim());
  if (parts.some((s) => s === "")) {
    throw new UsageError(
      `${option}: empty column name in ${JSON.stringify(text)}`,
    );
  }
  return parts.map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/**
 * Splits `name=value,name=value` into pairs, checking the names against the
 * model's parameters (in a message that lists them).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const pairs = parseAssignments("--p0", "a=1, b=2", ["a", "b", "c"]);
 * assert.deepStrictEqual([...pairs], [["a", "1"], ["b", "2"]]);
 * assert.throws(() => parseAssignments("--p0", "z=1", ["a"]), /unknown parameter "z"/);
 * ```
 */
/**
 * Splits `text` at the commas outside parentheses (so `s=max(a,b)` stays
 * one item).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { splitTopLevel } from "./args.ts";
 * assert.deepStrictEqual(splitTopLevel("a=1,b=max(c,d)"), ["a=1", "b=max(c,d)"]);
 * ```
 */
export function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0, start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "(" || ch === "[") depth++;
    else if ((ch === ")" || ch === "]") && depth > 0) depth--;
    else if (ch === "," && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

export function parseAssignments(
  option: string,
  text: string,
  names: readonly string[],
): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of splitTopLevel(text)) {
    const item = raw.trim();
    if (item === "") continue;
    const eq = item.indexOf("=");
    if (eq <= 0) {
      throw new UsageError(
        `${option}: expected name=value, got ${JSON.stringify(item)}`,
      );
    }
    const name = item.slice(0, eq).trim();
    if (!names.includes(name)) {
      throw new UsageError(
        `${option}: unknown parameter "${name}" (the model's parameters: ${
          names.join(", ")
        })`,
      );
    }
    if (out.has(name)) {
      throw new UsageError(`${option}: parameter "${name}" given twice`);
    }
    out.set(name, item.slice(eq + 1).trim());
  }
  return out;
}

/**
 * Parses `--bounds`: `name=lo:hi` per parameter, comma-separated; an empty
 * side is infinite (`b=0:` is b >= 0). Unnamed parameters are unbounded.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const [lo, hi] = parseBounds("b=0:10, c=:5", ["a", "b", "c"]);
 * assert.deepStrictEqual(lo, [-Infinity, 0, -Infinity]);
 * assert.deepStrictEqual(hi, [Infinity, 10, 5]);
 * assert.throws(() => parseBounds("b=5:1", ["b"]), /lower bound 5 is not below/);
 * ```
 */
export function parseBounds(
  text: string,
  names: readonly string[],
): [number[], number[]] {
  const lower = names.map(() => -Infinity);
  const upper = names.map(() => Infinity);
  for (const [name, value] of parseAssignments("--bounds", text, names)) {
    const parts = value.split(":");
    if (parts.length !== 2) {
      throw new UsageError(
        `--bounds: expected ${name}=lo:hi (an empty side is infinite), got ${
          JSON.stringify(`${name}=${value}`)
        }`,
      );
    }
    const k = names.indexOf(name);
    const side = (s: string, dflt: number) =>
      s.trim() === "" ? dflt : parseNumber(`--bounds ${name}`, s);
    lower[k] = side(parts[0], -Infinity);
    upper[k] = side(parts[1], Infinity);
    if (!(lower[k] < upper[k])) {
      throw new UsageError(
        `--bounds: for ${name}, the lower bound ${
          lower[k]
        } is not below the upper bound ${upper[k]}`,
      );
    }
  }
  return [lower, upper];
}

/**
 * Parses `--p0`: `name=value` pairs (parameters not named start at the
 * library's default: 1, moved inside finite bounds), or a plain
 * comma-separated list with one value per parameter in model order.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.deepStrictEqual(parseP0("b=0.5", ["a", "b"]), [1, 0.5]);
 * assert.deepStrictEqual(parseP0("2, 3", ["a", "b"]), [2, 3]);
 * // With bounds, defaults move inside them like the library's.
 * assert.deepStrictEqual(parseP0("a=2", ["a", "b"], [[0, 4], [10, 8]]), [2, 6]);
 * assert.throws(() => parseP0("a=x", ["a"]), UsageError);
 * ```
 */
export function parseP0(
  text: string,
  names: readonly string[],
  bounds?: [number[], number[]],
): number[] {
  const items = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  // A plain list when no item names a parameter and the first looks like a
  // number ("a:1" is a mistyped assignment, reported as such below).
  if (
    items.length > 0 && items.every((s) => !s.includes("=")) &&
    /^[+-]?(\d|\.\d|inf)/i.test(items[0])
  ) {
    if (items.length !== names.length) {
      throw new UsageError(
        `--p0: got ${items.length} value(s) for ${names.length} parameter(s) (${
          names.join(", ")
        }); give one per parameter or use name=value`,
      );
    }
    return items.map((s, k) => parseNumber(`--p0 ${names[k]}`, s));
  }
  const p0 = names.map((_, k) =>
    defaultStart(bounds?.[0][k] ?? -Infinity, bounds?.[1][k] ?? Infinity)
  );
  for (const [name, value] of parseAssignments("--p0", text, names)) {
    const v = parseNumber(`--p0 ${name}`, value);
    if (!Number.isFinite(v)) {
      throw new UsageError(`--p0 ${name}: must be finite, got ${value}`);
    }
    p0[names.indexOf(name)] = v;
  }
  return p0;
}

/** The library's default start (workflow/fit.ts): 1, moved inside bounds. */
function defaultStart(lo: number, hi: number): number {
  if (Number.isFinite(lo) && Number.isFinite(hi)) return 0.5 * (lo + hi);
  if (Number.isFinite(lo)) return Math.max(1, lo + 1);
  if (Number.isFinite(hi)) return Math.min(1, hi - 1);
  return 1;
}

/**
 * A list as help text reads it: `a, b or c`, with `(default)` after the
 * default choice.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(orList(["trf", "lm", "auto"], "trf"), "trf (default), lm or auto");
 * assert.strictEqual(orList(["f64", "f32"]), "f64 or f32");
 * ```
 */
export function orList(items: readonly string[], dflt?: string): string {
  const shown = items.map((s) => s === dflt ? `${s} (default)` : s);
  return shown.length < 2
    ? shown.join("")
    : `${shown.slice(0, -1).join(", ")} or ${shown.at(-1)}`;
}

/**
 * Checks a value against a list of choices.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(parseChoice("--method", "lm", ["trf", "lm", "auto"]), "lm");
 * assert.throws(() => parseChoice("--method", "dogbox", ["trf", "lm"]), /one of trf, lm/);
 * ```
 */
export function parseChoice<T extends string>(
  option: string,
  text: string,
  choices: readonly T[],
): T {
  if (!choices.includes(text as T)) {
    throw new UsageError(
      `${option}: expected one of ${choices.join(", ")}, got ${
        JSON.stringify(text)
      }`,
    );
  }
  return text as T;
}
