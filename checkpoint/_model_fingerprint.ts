// The canonical text of a model that its checkpoint fingerprint hashes. An
// expression model is printed from its parsed tree (prefix form, parameters
// and variables by index), so spacing, redundant parentheses and `**` versus
// `^` do not matter. A plain-function model has no tree and its source is not
// kept; its values at fixed probe points stand in, so two different functions
// with the same parameter names are told apart.

import type { Node } from "../model/ast.ts";
import type { Model } from "../model/types.ts";

/** Canonical text of `m` (stable across processes and releases). */
export function canonicalModelText(m: Model): string {
  const body = m.ast
    ? `tree ${printNode(m.ast)}`
    : m.kind === "expression" && m.expression !== undefined
    ? `text ${m.expression}`
    : `probe ${probe(m)}`;
  return JSON.stringify({
    kind: m.kind,
    params: m.params,
    variables: m.variables,
    body,
  });
}

function num(v: number): string {
  return Object.is(v, -0) ? "-0" : String(v);
}

function printNode(n: Node): string {
  switch (n.kind) {
    case "num":
      return num(n.value);
    case "param":
      return `p${n.index}`;
    case "var":
      return `x${n.index}`;
    case "neg":
      return `(neg ${printNode(n.arg)})`;
    case "bin":
      return `(${n.op} ${printNode(n.left)} ${printNode(n.right)})`;
    case "call":
      return `(${n.fn}${n.args.map((a) => ` ${printNode(a)}`).join("")})`;
    default:
      // A node kind added later: all of its fields, still spacing-free.
      return JSON.stringify(n, (_k, v) => typeof v === "number" ? num(v) : v);
  }
}

// Inside the domain of the usual model functions (log, sqrt, 1/x, ...).
const PROBE_X = [0.25, 0.5, 1, 1.75, 3, 5.5];

// Values rounded to 12 digits: robust to last-ulp differences of Math.*
// between runtimes, still distinct for genuinely different functions.
function probe(m: Model): string {
  const x = m.variables.map((_, v) =>
    Float64Array.from(PROBE_X, (t, i) => t + 0.37 * v * (i % 3))
  );
  const sets = [
    m.params.map((_, k) => 0.9 + 0.13 * k),
    m.params.map((_, k) => 1.7 - 0.21 * k),
  ];
  return sets.map((p) => {
    try {
      return Array.from(m.evaluate(x, p), (f) => f.toPrecision(12)).join(",");
    } catch (e) {
      return `throws ${e instanceof Error ? e.name : typeof e}`;
    }
  }).join(";");
}
