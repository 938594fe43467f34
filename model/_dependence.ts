/**
 * Which nodes of an expression depend on a given parameter (private helper
 * of differentiation).
 *
 * Built once per expression, it answers for each parameter in time
 * proportional to the nodes that depend on it, so the whole gradient costs
 * about the size of the expression rather than its size times the number of
 * parameters. A chain of `+` and `-` counts as one n-ary sum: `p_k` in the
 * last term of a 1000-term sum reaches the top of the sum in one step, not
 * through 1000 partial sums.
 *
 * @module
 */

import type { Node } from "./ast.ts";
import { childrenOf, postOrder } from "./_walk.ts";

/** A term of an n-ary sum and its sign. */
export interface SumTerm {
  /** The term. */
  readonly node: Node;
  /** `1` if added, `-1` if subtracted. */
  readonly sign: 1 | -1;
}

function isSum(n: Node): boolean {
  return n.kind === "bin" && (n.op === "+" || n.op === "-");
}

/** Dependence of the nodes of one expression (a tree or DAG) on parameters. */
export class ParamDependence {
  /**
   * The n-ary sums: each top of a `+`/`-` chain with its terms, left to
   * right. Partial sums inside a chain belong to no other node and are not
   * nodes of their own here.
   */
  readonly sums: Map<Node, SumTerm[]> = new Map();
  readonly #rank = new Map<Node, number>();
  /** Users of each node; `slot` is the term's index for a sum, else -1. */
  readonly #parents = new Map<Node, { node: Node; slot: number }[]>();
  readonly #leaves = new Map<number, Node[]>();

  /** Indexes every node reachable from `root`. */
  constructor(root: Node) {
    const order = postOrder([root]);
    const inner = innerPartialSums(order);
    for (const n of order) {
      if (inner.has(n)) continue;
      this.#rank.set(n, this.#rank.size);
      if (n.kind === "param") {
        const list = this.#leaves.get(n.index);
        if (list) list.push(n);
        else this.#leaves.set(n.index, [n]);
      }
      if (isSum(n)) {
        const terms = sumTerms(n, inner);
        this.sums.set(n, terms);
        terms.forEach((t, slot) => this.#addParent(t.node, n, slot));
      } else {
        for (const c of childrenOf(n)) this.#addParent(c, n, -1);
      }
    }
  }

  /**
   * The nodes that depend on parameter `k`, operands before their users,
   * and for each sum among them the indices of its terms that do, in order.
   */
  dependents(k: number): { nodes: Node[]; terms: Map<Node, number[]> } {
    const found = new Set<Node>(this.#leaves.get(k) ?? []);
    const terms = new Map<Node, number[]>();
    const stack = [...found];
    while (stack.length > 0) {
      for (const { node, slot } of this.#parents.get(stack.pop()!) ?? []) {
        if (slot >= 0) {
          const list = terms.get(node);
          if (list) list.push(slot);
          else terms.set(node, [slot]);
        }
        if (!found.has(node)) {
          found.add(node);
          stack.push(node);
        }
      }
    }
    for (const list of terms.values()) list.sort((a, b) => a - b);
    const rank = this.#rank;
    const nodes = [...found].sort((a, b) => rank.get(a)! - rank.get(b)!);
    return { nodes, terms };
  }

  #addParent(child: Node, parent: Node, slot: number): void {
    const list = this.#parents.get(child);
    const edge = { node: parent, slot };
    if (list) list.push(edge);
    else this.#parents.set(child, [edge]);
  }
}

/** Partial sums that are only the left operand of another `+` or `-`. */
function innerPartialSums(order: readonly Node[]): Set<Node> {
  const uses = new Map<Node, number>();
  for (const n of order) {
    for (const c of childrenOf(n)) uses.set(c, (uses.get(c) ?? 0) + 1);
  }
  const inner = new Set<Node>();
  for (const n of order) {
    if (
      n.kind === "bin" && isSum(n) && isSum(n.left) && uses.get(n.left) === 1
    ) {
      inner.add(n.left);
    }
  }
  return inner;
}

/** The terms of the sum whose top is `top`, left to right. */
function sumTerms(top: Node, inner: ReadonlySet<Node>): SumTerm[] {
  const terms: SumTerm[] = [];
  let s = top;
  while (s.kind === "bin") {
    terms.push({ node: s.right, sign: s.op === "-" ? -1 : 1 });
    if (!inner.has(s.left)) {
      terms.push({ node: s.left, sign: 1 });
      break;
    }
    s = s.left;
  }
  return terms.reverse();
}
