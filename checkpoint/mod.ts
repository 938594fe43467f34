/**
 * Checkpoints: the solver's state written atomically as a fit iterates (one
 * run's files apart from another's in a shared directory), found again and
 * checked against the model, data and settings on resume.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { createCheckpointDirectory } from "@nlsq/nlsq";
 * const base = await Deno.makeTempDir();
 * const dir = await createCheckpointDirectory(base);
 * assert.ok(dir.includes("nlsq_checkpoints"));
 * await Deno.remove(base, { recursive: true });
 * ```
 *
 * @module
 */

export * from "./checkpoint.ts";
export * from "./checkpoint_directory.ts";
