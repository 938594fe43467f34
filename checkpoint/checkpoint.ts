/**
 * Checkpoints of long-running fits: the solver state (parameters, counters,
 * trust-region radius / LM damping, scaling), the position in the data, the
 * configuration, and fingerprints of the model and the data, written
 * atomically (exclusively created temporary file with a random name, fsync,
 * rename) with a SHA-256 checksum, the newest K of each run kept.
 * `fit(..., { checkpointDir, resume })` uses them; a corrupt or truncated
 * file is skipped, one of another model or data is refused with
 * {@linkcode CheckpointMismatchError}.
 *
 * A directory may be shared by concurrent fits (in one process or many):
 * each fit writes `checkpoint_<run>_<sequence>.nlsq` under its own run id,
 * prunes only its own files, and resuming picks the newest checkpoint of the
 * same problem.
 *
 * @module
 */

import { requireNodeBuiltin } from "../runtime/host.ts";
import type { Model } from "../model/types.ts";
import type { SolverState } from "../core/solver_types.ts";
import type { SolverName } from "../core/solver_options.ts";
import { decodeCheckpoint, encodeCheckpoint, sha256Hex } from "./_codec.ts";
import {
  type CheckpointFileName,
  checkpointName,
  checkRun,
  newRunId,
  parseCheckpointName,
  writeFileAtomic,
} from "./_files.ts";
import { canonicalModelText } from "./_model_fingerprint.ts";

/**
 * Version of the file format this module writes and reads. Version 2 added
 * run ids and fingerprints independent of spacing and file paths; files of
 * another version are skipped like damaged ones.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(CHECKPOINT_VERSION, 2);
 * ```
 */
export const CHECKPOINT_VERSION = 2;

/**
 * What went wrong with a checkpoint.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const code: CheckpointErrorCode = "corrupt";
 * assert.strictEqual(new CheckpointError(code, "bad", "/tmp/x").code, "corrupt");
 * ```
 */
export type CheckpointErrorCode = "not_found" | "corrupt" | "mismatch";

/**
 * A checkpoint could not be used: none found (`"not_found"`), the file is
 * damaged (`"corrupt"`), or it belongs to another problem (`"mismatch"`, see
 * {@linkcode CheckpointMismatchError}).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const dir = await Deno.makeTempDir();
 * await assert.rejects(
 *   loadLatestCheckpoint(dir),
 *   (e) => e instanceof CheckpointError && e.code === "not_found",
 * );
 * await Deno.remove(dir);
 * ```
 */
export class CheckpointError extends Error {
  /** The kind of failure. */
  readonly code: CheckpointErrorCode;
  /** The file or directory concerned. */
  readonly path: string;

  /** Creates the error; `path` is the file or directory concerned. */
  constructor(
    code: CheckpointErrorCode,
    message: string,
    path: string,
    options?: ErrorOptions,
  ) {
    super(`${message} (${path})`, options);
    this.name = "CheckpointError";
    this.code = code;
    this.path = path;
  }
}

/**
 * The checkpoint belongs to another model, other data, or an incompatible
 * configuration (method, loss, bounds, number of starts): resuming from it
 * would continue a different problem, so it is refused.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const e = new CheckpointMismatchError("data", "abc", "def", "/tmp/c.nlsq");
 * assert.ok(e instanceof CheckpointError);
 * assert.strictEqual(e.code, "mismatch");
 * assert.strictEqual(e.field, "data");
 * ```
 */
export class CheckpointMismatchError extends CheckpointError {
  /** What differs. */
  readonly field: "model" | "data" | "config";
  /** The current value (fingerprint or setting). */
  readonly expected: string;
  /** The checkpoint's value. */
  readonly found: string;

  /** Creates the error for `field`, with the current and the stored value. */
  constructor(
    field: "model" | "data" | "config",
    expected: string,
    found: string,
    path: string,
  ) {
    super(
      "mismatch",
      `the checkpoint belongs to another ${
        field === "config" ? "configuration" : field
      }: expected ${short(expected)}, the checkpoint has ${short(found)}`,
      path,
    );
    this.name = "CheckpointMismatchError";
    this.field = field;
    this.expected = expected;
    this.found = found;
  }
}

function short(s: string): string {
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/**
 * The settings that define the problem (checked on resume) and the run.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const config: CheckpointConfig = {
 *   method: "trf", loss: "linear", fScale: 1, lower: [-Infinity],
 *   upper: [Infinity], nStarts: 1, ftol: 1e-8, xtol: 1e-8, gtol: 1e-8,
 *   maxNfev: 100, strategy: "streaming", strategyConfig: { batchSize: 1000 },
 * };
 * const start: CheckpointStart = {
 *   start: 0,
 *   state: {
 *     method: "trf", x: [2], delta: 1, alpha: 0, nfev: 3, njev: 3, nit: 2,
 *     scale: null,
 *   },
 * };
 * const progress: CheckpointProgress = { pass: 3, batch: 2, pointsProcessed: 2000 };
 * const content: CheckpointContent = {
 *   model: { fingerprint: "model:sha256:...", description: "a * x" },
 *   data: { fingerprint: "raw:/data.f64:...", description: "data.f64", nPoints: 5000 },
 *   config,
 *   starts: [start],
 *   progress,
 * };
 * const dir = await Deno.makeTempDir();
 * const path = await writeCheckpoint(dir, content);
 * const checkpoint: Checkpoint = await readCheckpoint(path);
 * assert.deepStrictEqual(checkpoint.starts, [start]);
 * assert.strictEqual(checkpoint.progress?.batch, 2);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface CheckpointConfig {
  /** "trf" or "lm" (must match on resume). */
  readonly method: SolverName;
  /** Robust loss (must match). */
  readonly loss: string;
  /** Soft margin of the loss (must match). */
  readonly fScale: number;
  /** Lower bounds (must match). */
  readonly lower: readonly number[];
  /** Upper bounds (must match). */
  readonly upper: readonly number[];
  /** Number of starts of a multi-start fit (must match). */
  readonly nStarts: number;
  /** Tolerance on the cost (informative: a resume may change it). */
  readonly ftol: number;
  /** Tolerance on the step (informative). */
  readonly xtol: number;
  /** Tolerance on the gradient (informative). */
  readonly gtol: number;
  /** Evaluation budget (informative). */
  readonly maxNfev: number;
  /** Strategy that wrote it (informative). */
  readonly strategy: string;
  /** Strategy configuration, e.g. the batch size (informative). */
  readonly strategyConfig: Readonly<Record<string, unknown>> | null;
}

/**
 * The latest solver state of one start of the fit.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const config: CheckpointConfig = {
 *   method: "trf", loss: "linear", fScale: 1, lower: [-Infinity],
 *   upper: [Infinity], nStarts: 1, ftol: 1e-8, xtol: 1e-8, gtol: 1e-8,
 *   maxNfev: 100, strategy: "streaming", strategyConfig: { batchSize: 1000 },
 * };
 * const start: CheckpointStart = {
 *   start: 0,
 *   state: {
 *     method: "trf", x: [2], delta: 1, alpha: 0, nfev: 3, njev: 3, nit: 2,
 *     scale: null,
 *   },
 * };
 * const progress: CheckpointProgress = { pass: 3, batch: 2, pointsProcessed: 2000 };
 * const content: CheckpointContent = {
 *   model: { fingerprint: "model:sha256:...", description: "a * x" },
 *   data: { fingerprint: "raw:/data.f64:...", description: "data.f64", nPoints: 5000 },
 *   config,
 *   starts: [start],
 *   progress,
 * };
 * const dir = await Deno.makeTempDir();
 * const path = await writeCheckpoint(dir, content);
 * const checkpoint: Checkpoint = await readCheckpoint(path);
 * assert.deepStrictEqual(checkpoint.starts, [start]);
 * assert.strictEqual(checkpoint.progress?.batch, 2);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface CheckpointStart {
  /** Start index (0 for a single-start fit). */
  readonly start: number;
  /** Enough to continue exactly (`solve(..., { resume: state })`). */
  readonly state: SolverState;
}

/**
 * Where a streaming fit was in the data when the checkpoint was written.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const config: CheckpointConfig = {
 *   method: "trf", loss: "linear", fScale: 1, lower: [-Infinity],
 *   upper: [Infinity], nStarts: 1, ftol: 1e-8, xtol: 1e-8, gtol: 1e-8,
 *   maxNfev: 100, strategy: "streaming", strategyConfig: { batchSize: 1000 },
 * };
 * const start: CheckpointStart = {
 *   start: 0,
 *   state: {
 *     method: "trf", x: [2], delta: 1, alpha: 0, nfev: 3, njev: 3, nit: 2,
 *     scale: null,
 *   },
 * };
 * const progress: CheckpointProgress = { pass: 3, batch: 2, pointsProcessed: 2000 };
 * const content: CheckpointContent = {
 *   model: { fingerprint: "model:sha256:...", description: "a * x" },
 *   data: { fingerprint: "raw:/data.f64:...", description: "data.f64", nPoints: 5000 },
 *   config,
 *   starts: [start],
 *   progress,
 * };
 * const dir = await Deno.makeTempDir();
 * const path = await writeCheckpoint(dir, content);
 * const checkpoint: Checkpoint = await readCheckpoint(path);
 * assert.deepStrictEqual(checkpoint.starts, [start]);
 * assert.strictEqual(checkpoint.progress?.batch, 2);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface CheckpointProgress {
  /** Passes over the data begun so far. */
  readonly pass: number;
  /** Batches of the current pass done. */
  readonly batch: number;
  /** Rows of the current pass done. */
  readonly pointsProcessed: number;
}

/**
 * The content of a checkpoint file.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const config: CheckpointConfig = {
 *   method: "trf", loss: "linear", fScale: 1, lower: [-Infinity],
 *   upper: [Infinity], nStarts: 1, ftol: 1e-8, xtol: 1e-8, gtol: 1e-8,
 *   maxNfev: 100, strategy: "streaming", strategyConfig: { batchSize: 1000 },
 * };
 * const start: CheckpointStart = {
 *   start: 0,
 *   state: {
 *     method: "trf", x: [2], delta: 1, alpha: 0, nfev: 3, njev: 3, nit: 2,
 *     scale: null,
 *   },
 * };
 * const progress: CheckpointProgress = { pass: 3, batch: 2, pointsProcessed: 2000 };
 * const content: CheckpointContent = {
 *   model: { fingerprint: "model:sha256:...", description: "a * x" },
 *   data: { fingerprint: "raw:/data.f64:...", description: "data.f64", nPoints: 5000 },
 *   config,
 *   starts: [start],
 *   progress,
 * };
 * const dir = await Deno.makeTempDir();
 * const path = await writeCheckpoint(dir, content);
 * const checkpoint: Checkpoint = await readCheckpoint(path);
 * assert.deepStrictEqual(checkpoint.starts, [start]);
 * assert.strictEqual(checkpoint.progress?.batch, 2);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface Checkpoint {
  /** {@linkcode CHECKPOINT_VERSION}. */
  readonly version: number;
  /** The run (one fit) that wrote it; see {@linkcode newCheckpointRun}. */
  readonly run: string;
  /** Increases by one per file of a run. */
  readonly sequence: number;
  /** ISO time of writing. */
  readonly createdAt: string;
  /** Fingerprint ({@linkcode modelFingerprint}) and a readable summary. */
  readonly model: {
    readonly fingerprint: string;
    readonly description: string;
  };
  /** The data source's fingerprint (or {@linkcode arraysFingerprint}). */
  readonly data: {
    readonly fingerprint: string;
    readonly description: string;
    readonly nPoints: number | null;
  };
  /** Method, loss, bounds, tolerances, strategy. */
  readonly config: CheckpointConfig;
  /** Latest state per start. */
  readonly starts: readonly CheckpointStart[];
  /** Position in the data (streaming), or null. */
  readonly progress: CheckpointProgress | null;
}

/**
 * What a writer supplies; the run, sequence number and time are added.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const config: CheckpointConfig = {
 *   method: "trf", loss: "linear", fScale: 1, lower: [-Infinity],
 *   upper: [Infinity], nStarts: 1, ftol: 1e-8, xtol: 1e-8, gtol: 1e-8,
 *   maxNfev: 100, strategy: "streaming", strategyConfig: { batchSize: 1000 },
 * };
 * const start: CheckpointStart = {
 *   start: 0,
 *   state: {
 *     method: "trf", x: [2], delta: 1, alpha: 0, nfev: 3, njev: 3, nit: 2,
 *     scale: null,
 *   },
 * };
 * const progress: CheckpointProgress = { pass: 3, batch: 2, pointsProcessed: 2000 };
 * const content: CheckpointContent = {
 *   model: { fingerprint: "model:sha256:...", description: "a * x" },
 *   data: { fingerprint: "raw:/data.f64:...", description: "data.f64", nPoints: 5000 },
 *   config,
 *   starts: [start],
 *   progress,
 * };
 * const dir = await Deno.makeTempDir();
 * const path = await writeCheckpoint(dir, content);
 * const checkpoint: Checkpoint = await readCheckpoint(path);
 * assert.deepStrictEqual(checkpoint.starts, [start]);
 * assert.strictEqual(checkpoint.progress?.batch, 2);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export type CheckpointContent = Omit<
  Checkpoint,
  "version" | "run" | "sequence" | "createdAt"
>;

/**
 * Fingerprint of a model: SHA-256 of its kind, parameter and variable names
 * and its parsed expression tree, so the same expression written with other
 * spacing or parentheses has the same fingerprint. A plain-function model
 * has no tree; its values at fixed probe points (parameters near 1, x in
 * 0.25..5.5) stand in, so the model is evaluated a few times.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "@nlsq/nlsq";
 * const a = await modelFingerprint(model("a * exp(-b * x)"));
 * assert.strictEqual(a, await modelFingerprint(model("a*exp( -b*x )")));
 * assert.strictEqual(a, await modelFingerprint(model("(a) * exp((-b) * x)")));
 * assert.notStrictEqual(a, await modelFingerprint(model("a * exp(-b * x) + c")));
 * const f = await modelFingerprint(model((x: number, a: number) => a * x));
 * assert.notStrictEqual(f, await modelFingerprint(model((x: number, a: number) => a + x)));
 * ```
 */
export async function modelFingerprint(m: Model): Promise<string> {
  const text = canonicalModelText(m);
  return `model:sha256:${await sha256Hex(new TextEncoder().encode(text))}`;
}

/**
 * Fingerprint of in-memory data: SHA-256 of the bytes of every array (x
 * columns, y, and sigma when given), with their lengths.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const x = new Float64Array([1, 2, 3]);
 * const a = await arraysFingerprint([x, new Float64Array([2, 4, 6])]);
 * const b = await arraysFingerprint([x, new Float64Array([2, 4, 7])]);
 * assert.notStrictEqual(a, b);
 * ```
 */
export async function arraysFingerprint(
  arrays: readonly (Float64Array | null | undefined)[],
): Promise<string> {
  const present = arrays.filter((a): a is Float64Array => !!a);
  const total = present.reduce((s, a) => s + a.byteLength, 0);
  const bytes = new Uint8Array(total + 8 * arrays.length);
  const lens = new Float64Array(arrays.map((a) => a ? a.length : -1));
  bytes.set(new Uint8Array(lens.buffer));
  let o = lens.byteLength;
  for (const a of present) {
    bytes.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), o);
    o += a.byteLength;
  }
  return `arrays:sha256:${await sha256Hex(bytes)}`;
}

/**
 * Options of {@linkcode listCheckpoints}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const options: ListCheckpointsOptions = { run: newCheckpointRun() };
 * const dir = await Deno.makeTempDir();
 * assert.deepStrictEqual(await listCheckpoints(dir, options), []);
 * await Deno.remove(dir);
 * ```
 */
export interface ListCheckpointsOptions {
  /** Only the files of this run (default: of every run). */
  readonly run?: string;
}

/**
 * Paths of the checkpoint files in `dir`, oldest first: by run (a run id
 * begins with the run's start time), then by sequence number. Temporary
 * files of unfinished writes and symbolic links are not listed.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const dir = await Deno.makeTempDir();
 * assert.deepStrictEqual(await listCheckpoints(dir), []);
 * await Deno.remove(dir);
 * ```
 */
export async function listCheckpoints(
  dir: string,
  options: ListCheckpointsOptions = {},
): Promise<string[]> {
  return (await checkpointFiles(dir, options.run)).map((f) => f.path);
}

async function checkpointFiles(
  dir: string,
  run?: string,
): Promise<CheckpointFileName[]> {
  const found: CheckpointFileName[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      // Regular files only: a planted symlink is never read or removed.
      const f = e.isFile ? parseCheckpointName(dir, e.name) : null;
      if (f && (run === undefined || f.run === run)) found.push(f);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  return found.sort((a, b) =>
    a.run < b.run ? -1 : a.run > b.run ? 1 : a.sequence - b.sequence
  );
}

/**
 * A new run id: the UTC start time, the process id and 48 random bits.
 * {@linkcode writeCheckpoint} names files after it and prunes only its own
 * files, so concurrent writers of one directory (every `fit()` makes its own
 * run) never collide.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const run = newCheckpointRun();
 * assert.match(run, /^\d{8}T\d{6}Z-\d+-[0-9a-f]{12}$/);
 * assert.notStrictEqual(run, newCheckpointRun());
 * ```
 */
export function newCheckpointRun(): string {
  return newRunId();
}

// The run of writeCheckpoint calls that name none: one per process.
let processRun: string | undefined;

/**
 * Options of {@linkcode writeCheckpoint}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const options: WriteCheckpointOptions = { keep: 5, run: newCheckpointRun() };
 * assert.strictEqual(options.keep, 5);
 * ```
 */
export interface WriteCheckpointOptions {
  /** Checkpoints of this run to keep, newest first (default 3). */
  readonly keep?: number;
  /**
   * The run the file belongs to: 1-100 letters, digits or `-`, e.g. from
   * {@linkcode newCheckpointRun}. Default: one run per process, so
   * concurrent writers in one process must pass their own.
   */
  readonly run?: string;
}

/**
 * Writes a checkpoint into `dir` atomically: to an exclusively created
 * temporary file with a random name in the same directory (never through a
 * planted link), fsync, then rename to `checkpoint_<run>_<sequence>.nlsq` (a
 * reader sees the old set of files or the new one, never a partial file).
 * Files of the same run beyond `keep` are removed; other runs' files are
 * never touched. Resolves to the new file's path.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const dir = await Deno.makeTempDir();
 * const content: CheckpointContent = {
 *   model: { fingerprint: "m", description: "a * x" },
 *   data: { fingerprint: "d", description: "arrays", nPoints: 3 },
 *   config: {
 *     method: "trf", loss: "linear", fScale: 1, lower: [-Infinity],
 *     upper: [Infinity], nStarts: 1, ftol: 1e-8, xtol: 1e-8, gtol: 1e-8,
 *     maxNfev: 100, strategy: "standard", strategyConfig: null,
 *   },
 *   starts: [{ start: 0, state: {
 *     method: "trf", x: [2], delta: 1, alpha: 0, nfev: 2, njev: 2, nit: 1,
 *     scale: null,
 *   } }],
 *   progress: null,
 * };
 * const run = newCheckpointRun();
 * for (let i = 0; i < 4; i++) await writeCheckpoint(dir, content, { keep: 2, run });
 * await writeCheckpoint(dir, content, { run: newCheckpointRun() });
 * assert.strictEqual((await listCheckpoints(dir, { run })).length, 2);
 * assert.strictEqual((await listCheckpoints(dir)).length, 3);
 * const { checkpoint } = await loadLatestCheckpoint(dir);
 * assert.strictEqual(checkpoint.sequence, 1);
 * assert.strictEqual(checkpoint.config.lower[0], -Infinity);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeCheckpoint(
  dir: string,
  content: CheckpointContent,
  options: WriteCheckpointOptions = {},
): Promise<string> {
  const keep = options.keep ?? 3;
  if (!Number.isSafeInteger(keep) || keep < 1) {
    throw new RangeError(`checkpointKeep must be an integer >= 1, got ${keep}`);
  }
  const run = options.run ?? (processRun ??= newRunId());
  checkRun(run);
  await Deno.mkdir(dir, { recursive: true });
  const mine = await checkpointFiles(dir, run);
  const sequence = (mine.at(-1)?.sequence ?? 0) + 1;
  const checkpoint: Checkpoint = {
    version: CHECKPOINT_VERSION,
    run,
    sequence,
    createdAt: new Date().toISOString(),
    model: content.model,
    data: content.data,
    config: content.config,
    starts: content.starts,
    progress: content.progress,
  };
  const bytes = await encodeCheckpoint(checkpoint, CHECKPOINT_VERSION);
  const final = await writeFileAtomic(
    dir,
    checkpointName(run, sequence),
    bytes,
  );
  const all = [...mine.map((f) => f.path), final];
  for (const old of all.slice(0, Math.max(0, all.length - keep))) {
    await Deno.remove(old).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
  }
  return final;
}

function checkShape(v: unknown): Checkpoint {
  const c = v as Checkpoint;
  const ok = c !== null && typeof c === "object" &&
    c.version === CHECKPOINT_VERSION && typeof c.run === "string" &&
    typeof c.sequence === "number" && typeof c.createdAt === "string" &&
    typeof c.model?.fingerprint === "string" &&
    typeof c.data?.fingerprint === "string" &&
    typeof c.config?.method === "string" && Array.isArray(c.starts) &&
    c.starts.every((s) =>
      typeof s?.start === "number" && Array.isArray(s.state?.x) &&
      typeof s.state.nit === "number"
    );
  if (!ok) throw new Error("the payload is not a checkpoint of this version");
  return c;
}

/**
 * Reads and verifies one checkpoint file.
 *
 * @throws {CheckpointError} code `"corrupt"` when the file is truncated, its
 * checksum does not match, or it is not a checkpoint; `"not_found"` when it
 * does not exist.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const path = await Deno.makeTempFile({ suffix: ".nlsq" });
 * await Deno.writeTextFile(path, "NLSQ-CHECKPOINT 1 bytes=5 sha256=" + "0".repeat(64) + "\n{}");
 * await assert.rejects(
 *   readCheckpoint(path),
 *   (e) => e instanceof CheckpointError && e.code === "corrupt",
 * );
 * await Deno.remove(path);
 * ```
 */
export async function readCheckpoint(path: string): Promise<Checkpoint> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new CheckpointError("not_found", "no such checkpoint", path, {
        cause: e,
      });
    }
    throw e;
  }
  try {
    return checkShape(await decodeCheckpoint(bytes, CHECKPOINT_VERSION));
  } catch (e) {
    throw new CheckpointError(
      "corrupt",
      `invalid checkpoint: ${(e as Error).message}`,
      path,
      { cause: e },
    );
  }
}

/**
 * Result of {@linkcode loadLatestCheckpoint}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const dir = await Deno.makeTempDir();
 * await assert.rejects(loadLatestCheckpoint(dir));
 * const empty: Pick<LoadedCheckpoint, "skipped"> = { skipped: [] };
 * assert.strictEqual(empty.skipped.length, 0);
 * await Deno.remove(dir);
 * ```
 */
export interface LoadedCheckpoint {
  /** The file loaded. */
  readonly path: string;
  /** Its content. */
  readonly checkpoint: Checkpoint;
  /**
   * Files of the directory that were passed over because they are damaged
   * (truncated, corrupt, another format), and why; newest name first.
   */
  readonly skipped: readonly { path: string; reason: string }[];
}

/**
 * Options of {@linkcode loadLatestCheckpoint}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const options: LoadCheckpointOptions = {
 *   match: {
 *     modelFingerprint: "m", dataFingerprint: "d",
 *     config: {
 *       method: "trf", loss: "linear", fScale: 1, lower: [-Infinity],
 *       upper: [Infinity], nStarts: 1,
 *     },
 *   },
 * };
 * assert.strictEqual(options.match?.config.method, "trf");
 * ```
 */
export interface LoadCheckpointOptions {
  /**
   * Load only a checkpoint of this problem: in a directory, checkpoints of
   * other problems are passed over (the newest matching one is loaded); if
   * none matches, the newest one's {@linkcode CheckpointMismatchError} is
   * thrown. A file given by path must match.
   */
  readonly match?: CheckpointIdentity;
}

/**
 * Loads the newest valid checkpoint of a directory (by the time it was
 * written; within one run by sequence number), skipping (and reporting)
 * files that are truncated or corrupt. A file path loads that file. With
 * `match`, the newest checkpoint of that problem.
 *
 * @throws {CheckpointError} `"not_found"` when there is no valid checkpoint
 * (the message lists what was skipped), `"corrupt"` for a damaged file given
 * by path.
 * @throws {CheckpointMismatchError} with `match`, when valid checkpoints
 * exist but none of this problem.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/checkpoint_00000001.nlsq`, "garbage");
 * await assert.rejects(loadLatestCheckpoint(dir), /no valid checkpoint/);
 * const config: CheckpointConfig = {
 *   method: "trf", loss: "linear", fScale: 1, lower: [0], upper: [9],
 *   nStarts: 1, ftol: 1e-8, xtol: 1e-8, gtol: 1e-8, maxNfev: 100,
 *   strategy: "standard", strategyConfig: null,
 * };
 * const state = {
 *   method: "trf" as const, x: [2], delta: 1, alpha: 0, nfev: 2, njev: 2,
 *   nit: 1, scale: null,
 * };
 * const content = (model: string): CheckpointContent => ({
 *   model: { fingerprint: model, description: model },
 *   data: { fingerprint: "d", description: "arrays", nPoints: 3 },
 *   config, starts: [{ start: 0, state }], progress: null,
 * });
 * const mine = await writeCheckpoint(dir, content("m1"), { run: newCheckpointRun() });
 * await writeCheckpoint(dir, content("m2"), { run: newCheckpointRun() });
 * const identity = (model: string) => ({
 *   modelFingerprint: model, dataFingerprint: "d", config,
 * });
 * const loaded = await loadLatestCheckpoint(dir, { match: identity("m1") });
 * assert.strictEqual(loaded.path, mine);
 * assert.strictEqual(loaded.skipped.length, 1); // the garbage file
 * await assert.rejects(
 *   loadLatestCheckpoint(dir, { match: identity("m3") }),
 *   CheckpointMismatchError,
 * );
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadLatestCheckpoint(
  pathOrDir: string,
  options: LoadCheckpointOptions = {},
): Promise<LoadedCheckpoint> {
  const { match } = options;
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(pathOrDir);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new CheckpointError(
        "not_found",
        "no checkpoint to resume from: the path does not exist",
        pathOrDir,
        { cause: e },
      );
    }
    throw e;
  }
  if (info.isFile) {
    const checkpoint = await readCheckpoint(pathOrDir);
    if (match) assertCheckpointMatches(checkpoint, match, pathOrDir);
    return { path: pathOrDir, checkpoint, skipped: [] };
  }
  const { valid, skipped } = await readAll(pathOrDir);
  const found = match
    ? valid.find((v) => matches(v.checkpoint, match, v.path))
    : valid[0];
  if (found) return { ...found, skipped };
  if (match && valid.length > 0) {
    assertCheckpointMatches(valid[0].checkpoint, match, valid[0].path);
  }
  throw new CheckpointError(
    "not_found",
    `no valid checkpoint to resume from${
      skipped.length > 0
        ? ` (${skipped.length} damaged file(s) skipped: ${
          skipped.map((s) =>
            requireNodeBuiltin("node:path", "checkpoint files").basename(s.path)
          ).join(", ")
        })`
        : ""
    }`,
    pathOrDir,
  );
}

// Every checkpoint of `dir`, newest first, and the damaged ones.
async function readAll(dir: string) {
  const valid: { path: string; checkpoint: Checkpoint }[] = [];
  const skipped: { path: string; reason: string }[] = [];
  for (const f of (await checkpointFiles(dir)).reverse()) {
    try {
      valid.push({ path: f.path, checkpoint: await readCheckpoint(f.path) });
    } catch (e) {
      if (!(e instanceof CheckpointError)) throw e;
      // Pruned by its run since the listing: not damaged, just gone.
      if (e.code !== "not_found") {
        skipped.push({ path: f.path, reason: e.message });
      }
    }
  }
  const time = (c: Checkpoint) => Date.parse(c.createdAt) || 0;
  // Stable: equal times keep the (newest first) name order.
  valid.sort(({ checkpoint: a }, { checkpoint: b }) =>
    a.run === b.run ? b.sequence - a.sequence : time(b) - time(a)
  );
  return { valid, skipped };
}

function matches(c: Checkpoint, id: CheckpointIdentity, path: string) {
  try {
    assertCheckpointMatches(c, id, path);
    return true;
  } catch (e) {
    if (e instanceof CheckpointMismatchError) return false;
    throw e;
  }
}

/**
 * What the current fit is; compared with a checkpoint on resume.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "@nlsq/nlsq";
 * const id: CheckpointIdentity = {
 *   modelFingerprint: await modelFingerprint(model("a * x")),
 *   dataFingerprint: await arraysFingerprint([new Float64Array([1, 2])]),
 *   config: {
 *     method: "trf", loss: "linear", fScale: 1, lower: [-Infinity],
 *     upper: [Infinity], nStarts: 1,
 *   },
 * };
 * assert.match(id.modelFingerprint, /^model:sha256:/);
 * ```
 */
export interface CheckpointIdentity {
  /** {@linkcode modelFingerprint} of the model being fitted. */
  readonly modelFingerprint: string;
  /** The source's fingerprint or {@linkcode arraysFingerprint}. */
  readonly dataFingerprint: string;
  /** The settings that must match. */
  readonly config: Pick<
    CheckpointConfig,
    "method" | "loss" | "fScale" | "lower" | "upper" | "nStarts"
  >;
}

/**
 * Throws {@linkcode CheckpointMismatchError} unless the checkpoint belongs to
 * the same model, data and problem configuration (method, loss, fScale,
 * bounds, number of starts). Tolerances and the strategy may differ.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const config = {
 *   method: "trf" as const, loss: "linear", fScale: 1, lower: [-Infinity],
 *   upper: [Infinity], nStarts: 1,
 * };
 * const cp = {
 *   model: { fingerprint: "m1", description: "" },
 *   data: { fingerprint: "d1", description: "", nPoints: 3 },
 *   config,
 * } as unknown as Checkpoint;
 * assertCheckpointMatches(cp, { modelFingerprint: "m1", dataFingerprint: "d1", config }, "x");
 * assert.throws(
 *   () => assertCheckpointMatches(cp, { modelFingerprint: "m2", dataFingerprint: "d1", config }, "x"),
 *   CheckpointMismatchError,
 * );
 * ```
 */
export function assertCheckpointMatches(
  checkpoint: Checkpoint,
  current: CheckpointIdentity,
  path: string,
): void {
  if (checkpoint.model.fingerprint !== current.modelFingerprint) {
    throw new CheckpointMismatchError(
      "model",
      current.modelFingerprint,
      `${checkpoint.model.fingerprint} (${checkpoint.model.description})`,
      path,
    );
  }
  if (checkpoint.data.fingerprint !== current.dataFingerprint) {
    throw new CheckpointMismatchError(
      "data",
      current.dataFingerprint,
      `${checkpoint.data.fingerprint} (${checkpoint.data.description})`,
      path,
    );
  }
  const pick = (c: CheckpointIdentity["config"]) =>
    JSON.stringify(
      [c.method, c.loss, c.fScale, c.lower, c.upper, c.nStarts],
      (_k, v) => typeof v === "number" && !Number.isFinite(v) ? String(v) : v,
    );
  const want = pick(current.config), have = pick(checkpoint.config);
  if (want !== have) {
    throw new CheckpointMismatchError(
      "config",
      `[method, loss, fScale, lower, upper, nStarts] = ${want}`,
      have,
      path,
    );
  }
}
