/**
 * Runs a Python script that reads one JSON value on stdin and prints one
 * JSON value on stdout, for the unit tests that check core functions against
 * numpy and scipy. Infinity and NaN travel both ways (Python's `json` writes
 * and reads them as bare tokens; JavaScript's JSON cannot), and doubles
 * round-trip exactly.
 *
 * @module
 */

import { havePython, pythonCommand } from "./_tools.ts";

/**
 * Whether python3 with numpy and scipy runs here; warns, naming `who`, when
 * it does not, so a skipped comparison is visible in the test output.
 */
export function scipyAvailable(who: string): boolean {
  const ok = havePython("numpy, scipy");
  if (!ok) {
    console.warn(
      `${who}: scipy comparisons SKIPPED (python3 with numpy/scipy not found)`,
    );
  }
  return ok;
}

const NON_FINITE = /"__(-?Infinity|NaN)__"/g;
const BARE = /(?<![\w"])(-?Infinity|NaN)(?![\w"])/g;

/** JSON with non-finite numbers as Python's bare tokens. */
function encode(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v) => typeof v === "number" && !Number.isFinite(v) ? `__${v}__` : v,
  ).replace(NON_FINITE, "$1");
}

/** Parses Python's JSON, bare Infinity and NaN included. */
function decode(text: string): unknown {
  return JSON.parse(
    text.replace(BARE, '"__$1__"'),
    (_k, v) =>
      typeof v === "string" && /^__(-?Infinity|NaN)__$/.test(v)
        ? Number(v.slice(2, -2))
        : v,
  );
}

/**
 * Runs `script` with `input` as JSON on stdin and returns what it printed,
 * parsed. The script gets `json`, `sys` and `np` imported and the input as
 * `data`; it must print one JSON value (use `emit(value)`, which converts
 * numpy arrays and scalars). `python` is the interpreter (default
 * {@linkcode pythonCommand}).
 */
export async function pythonJson<T>(
  script: string,
  input: unknown,
  python: string = pythonCommand(),
): Promise<T> {
  const prelude = `
import json, sys
import numpy as np
data = json.loads(sys.stdin.read())
def _plain(v):
    if isinstance(v, np.ndarray):
        return [_plain(t) for t in v.tolist()] if v.ndim else _plain(v.item())
    if isinstance(v, (list, tuple)):
        return [_plain(t) for t in v]
    if isinstance(v, dict):
        return {k: _plain(t) for k, t in v.items()}
    if isinstance(v, np.generic):
        return v.item()
    return v
def emit(v):
    print(json.dumps(_plain(v)))
`;
  const proc = new Deno.Command(python, {
    args: ["-c", prelude + script],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = proc.stdin.getWriter();
  await w.write(new TextEncoder().encode(encode(input)));
  await w.close();
  const out = await proc.output();
  const text = new TextDecoder();
  if (!out.success) {
    throw new Error(`python failed:\n${text.decode(out.stderr)}`);
  }
  return decode(text.decode(out.stdout)) as T;
}

/** Deterministic uniform numbers in [-0.5, 0.5) (an LCG), for test data. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}
