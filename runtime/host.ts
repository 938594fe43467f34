// The runtime the library runs in, and its Node built-in modules where it has
// them. The fit path (model compiler, solvers, in-memory strategies, WebGPU)
// reaches threads, files and system memory only through `nodeBuiltin`, so a
// browser bundle of it imports nothing from `node:` and touches no `Deno`
// global while loading: those features are found at run time, and a browser
// (a page or a Web Worker) goes without them (one thread, assumed memory, no
// checkpoint files).

import type * as NodeFs from "node:fs";
import type * as NodeOs from "node:os";
import type * as NodePath from "node:path";
import type * as NodeTimers from "node:timers";
import type * as NodeWorkerThreads from "node:worker_threads";

/** The Node built-in modules the library uses, by specifier. */
export interface NodeBuiltins {
  /** Synchronous file reads (cgroup files under Node). */
  "node:fs": typeof NodeFs;
  /** Core count and free memory. */
  "node:os": typeof NodeOs;
  /** Paths of checkpoint files. */
  "node:path": typeof NodePath;
  /** `setImmediate` (the batch engine's yields). */
  "node:timers": typeof NodeTimers;
  /** The CPU evaluator's worker threads. */
  "node:worker_threads": typeof NodeWorkerThreads;
}

/** Where the library runs. */
export type HostRuntime = "deno" | "node" | "browser";

interface ProcessLike {
  env?: Record<string, string | undefined>;
  getBuiltinModule?: (id: string) => unknown;
}

function processGlobal(): ProcessLike | undefined {
  return (globalThis as { process?: ProcessLike }).process;
}

/**
 * `"deno"` with a `Deno` global, `"node"` for Node and Bun (a `process`
 * global), else `"browser"` (a page or a Web Worker).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { hostRuntime } from "./host.ts";
 * assert.strictEqual(hostRuntime(), "deno");
 * ```
 */
export function hostRuntime(): HostRuntime {
  if ("Deno" in globalThis) return "deno";
  return processGlobal() ? "node" : "browser";
}

/**
 * A Node built-in module, through `process.getBuiltinModule` (Deno, Node
 * >= 20.16, Bun), or undefined where the runtime has none (browsers). No
 * `import` names it, so bundles for the browser carry no `node:` import;
 * callers fall back (one thread, assumed memory) or say what needs it.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { nodeBuiltin } from "./host.ts";
 * const os = nodeBuiltin("node:os");
 * assert.ok(os !== undefined && os.availableParallelism() >= 1);
 * ```
 */
export function nodeBuiltin<K extends keyof NodeBuiltins>(
  id: K,
): NodeBuiltins[K] | undefined {
  const get = processGlobal()?.getBuiltinModule;
  if (typeof get !== "function") return undefined;
  try {
    return get(id) as NodeBuiltins[K] | undefined;
  } catch {
    return undefined;
  }
}

/**
 * A Node built-in module that a feature cannot do without, or a `TypeError`
 * naming the feature (checkpoint files in a browser, say).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { requireNodeBuiltin } from "./host.ts";
 * assert.strictEqual(requireNodeBuiltin("node:path", "checkpoints").sep, "/");
 * ```
 */
export function requireNodeBuiltin<K extends keyof NodeBuiltins>(
  id: K,
  feature: string,
): NodeBuiltins[K] {
  const m = nodeBuiltin(id);
  if (m === undefined) {
    throw new TypeError(
      `${feature} need ${id}, which this runtime (${hostRuntime()}) does not have; use Deno or Node`,
    );
  }
  return m;
}

/**
 * The number of logical cores: `navigator.hardwareConcurrency` (Deno,
 * browsers, Node >= 21), else `os.availableParallelism()`, else 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { hardwareConcurrency } from "./host.ts";
 * assert.ok(hardwareConcurrency() >= 1);
 * ```
 */
export function hardwareConcurrency(): number {
  const n = globalThis.navigator?.hardwareConcurrency ??
    nodeBuiltin("node:os")?.availableParallelism();
  return n !== undefined && n >= 1 ? Math.floor(n) : 1;
}
