/**
 * Iterative traversal of model ASTs and DAGs (private helper of every pass).
 *
 * A left-associative sum of thousands of terms is a tree thousands of levels
 * deep, so no pass may recurse on the tree: each one walks the post-order
 * list built here with an explicit stack.
 *
 * @module
 */

import type { Node } from "./ast.ts";

const NO_CHILDREN: readonly Node[] = [];

/** The operands of `n`, left to right. */
export function childrenOf(n: Node): readonly Node[] {
  switch (n.kind) {
    case "neg":
      return [n.arg];
    case "bin":
      return [n.left, n.right];
    case "call":
      return n.args;
    case "num":
    case "param":
    case "var":
      return NO_CHILDREN;
    default: {
      const never: never = n;
      throw new TypeError(`unknown node ${JSON.stringify(never)}`);
    }
  }
}

/**
 * Every distinct node (by identity) reachable from `roots`, children before
 * parents, in the order a left-to-right recursive walk would finish them.
 */
export function postOrder(roots: readonly Node[]): Node[] {
  const out: Node[] = [];
  const seen = new Set<Node>();
  // Each frame: a node and the index of its next child to visit.
  const nodes: Node[] = [];
  const next: number[] = [];
  for (const root of roots) {
    if (seen.has(root)) continue;
    seen.add(root);
    nodes.push(root);
    next.push(0);
    while (nodes.length > 0) {
      const top = nodes.length - 1;
      const n = nodes[top];
      const kids = childrenOf(n);
      const i = next[top];
      if (i < kids.length) {
        next[top] = i + 1;
        const c = kids[i];
        if (!seen.has(c)) {
          seen.add(c);
          nodes.push(c);
          next.push(0);
        }
      } else {
        nodes.pop();
        next.pop();
        out.push(n);
      }
    }
  }
  return out;
}

/**
 * Maps every node reachable from `roots` bottom-up: `visit(n, get)` runs
 * after all operands of `n`, and `get(c)` returns what `visit` gave for an
 * operand `c`. Shared nodes are visited once. Returns the map.
 */
export function mapBottomUp<T>(
  roots: readonly Node[],
  visit: (n: Node, get: (c: Node) => T) => T,
): Map<Node, T> {
  const memo = new Map<Node, T>();
  const get = (c: Node): T => memo.get(c) as T;
  for (const n of postOrder(roots)) memo.set(n, visit(n, get));
  return memo;
}
