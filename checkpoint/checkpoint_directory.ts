/**
 * Checkpoint directories of long-running fits.
 *
 * @module
 */

import { requireNodeBuiltin } from "../runtime/host.ts";
import { canRead, canWrite } from "../runtime/permissions.ts";

/**
 * Options of {@linkcode createCheckpointDirectory}.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * const options: CheckpointDirectoryOptions = { now: new Date(2024, 0, 2, 3, 4, 5) };
 * assert.strictEqual(options.now?.getFullYear(), 2024);
 * ```
 */
export interface CheckpointDirectoryOptions {
  /** The time stamp to name the directory after. Default now (local time). */
  now?: Date;
}

/**
 * Creates `<baseDir or cwd>/nlsq_checkpoints/YYYYMMDD_HHMMSS/` (local time)
 * and resolves to its absolute path. A second directory in the same second
 * gets `_1`, `_2`, ... appended: creation is exclusive, so concurrent callers
 * never share a directory.
 *
 * Checks permissions first and never prompts.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * const base = await Deno.makeTempDir();
 * const now = new Date(2024, 0, 2, 3, 4, 5);
 * const first = await createCheckpointDirectory(base, { now });
 * const second = await createCheckpointDirectory(base, { now });
 * assert.ok(first.endsWith("/nlsq_checkpoints/20240102_030405"));
 * assert.ok(second.endsWith("/nlsq_checkpoints/20240102_030405_1"));
 * assert.ok((await Deno.stat(first)).isDirectory);
 * await Deno.remove(base, { recursive: true });
 * ```
 *
 * @throws {Deno.errors.NotCapable} Write permission for the directory (or
 * read permission for the current directory, without `baseDir`) is not
 * granted.
 * @throws {Deno.errors.PermissionDenied} The operating system refuses to
 * create the directory.
 * @throws {TypeError} `baseDir` is not a string or `now` not a valid Date.
 */
export async function createCheckpointDirectory(
  baseDir?: string,
  options: CheckpointDirectoryOptions = {},
): Promise<string> {
  if (!("Deno" in globalThis)) {
    throw new TypeError(
      "checkpoints need Deno; under Node or Bun choose a workflow without checkpoints",
    );
  }
  if (baseDir !== undefined && typeof baseDir !== "string") {
    throw new TypeError(`baseDir must be a string, got ${typeof baseDir}`);
  }
  const now = options.now ?? new Date();
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) {
    throw new TypeError("now must be a valid Date");
  }
  if (baseDir === undefined && !canRead(".")) {
    throw new Deno.errors.NotCapable(
      "createCheckpointDirectory needs read permission for the current directory (--allow-read), or pass baseDir",
    );
  }
  const { resolve } = requireNodeBuiltin("node:path", "checkpoint files");
  const root = resolve(baseDir ?? Deno.cwd(), "nlsq_checkpoints");
  if (!canWrite(root)) {
    throw new Deno.errors.NotCapable(
      `createCheckpointDirectory needs write permission for ${root} (--allow-write=${root})`,
    );
  }
  const pad = (v: number) => String(v).padStart(2, "0");
  const stamp = `${now.getFullYear()}${pad(now.getMonth() + 1)}${
    pad(now.getDate())
  }_${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
  try {
    await Deno.mkdir(root, { recursive: true });
    for (let suffix = 0;; suffix++) {
      const dir = resolve(root, suffix === 0 ? stamp : `${stamp}_${suffix}`);
      try {
        // Non-recursive: fails if it exists, which is what makes it unique.
        await Deno.mkdir(dir);
        return dir;
      } catch (error) {
        if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
      }
    }
  } catch (error) {
    if (error instanceof Deno.errors.PermissionDenied) {
      throw new Deno.errors.PermissionDenied(
        `cannot create checkpoint directory under ${root}: ${error.message}`,
        { cause: error },
      );
    }
    throw error;
  }
}
