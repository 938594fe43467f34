// Names and atomic writes of checkpoint files. A directory may be shared by
// many fits (threads of one process, processes on many nodes, other users on
// scratch space), so every fit writes under its own run id, and nothing is
// ever written through a name another process could predict: the temporary
// file has a random name and is created exclusively (O_CREAT | O_EXCL never
// follows a planted symlink), and the final rename replaces a link planted
// at the final name instead of writing through it.

import { requireNodeBuiltin } from "../runtime/host.ts";

function join(dir: string, name: string): string {
  return requireNodeBuiltin("node:path", "checkpoint files").join(dir, name);
}

/** `checkpoint_<run>_<sequence>.nlsq`; files of format 1 had no run id. */
const NAME = /^checkpoint_(?:([A-Za-z0-9-]+)_)?(\d{8,})\.nlsq$/;
const RUN = /^[A-Za-z0-9-]{1,100}$/;

/** A checkpoint file of a directory listing. */
export interface CheckpointFileName {
  /** The directory joined with the name. */
  readonly path: string;
  /** The run that wrote it ("" for files without a run id). */
  readonly run: string;
  /** Its sequence number within the run. */
  readonly sequence: number;
}

/** Parses a file name; null when it is not a checkpoint's. */
export function parseCheckpointName(
  dir: string,
  name: string,
): CheckpointFileName | null {
  const m = NAME.exec(name);
  return m
    ? { path: join(dir, name), run: m[1] ?? "", sequence: Number(m[2]) }
    : null;
}

/** The file name of `sequence` of `run`. */
export function checkpointName(run: string, sequence: number): string {
  return `checkpoint_${run}_${String(sequence).padStart(8, "0")}.nlsq`;
}

/** Throws a RangeError unless `run` can be part of a file name. */
export function checkRun(run: string): void {
  if (typeof run !== "string" || !RUN.test(run)) {
    throw new RangeError(
      `a checkpoint run id is 1-100 letters, digits or '-', got ${
        JSON.stringify(run)
      }`,
    );
  }
}

function randomHex(bytes: number): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(b, (v) => v.toString(16).padStart(2, "0")).join("");
}

/**
 * A new run id: UTC start time (so names sort by run start), process id and
 * 48 random bits (pids repeat across the nodes sharing a directory).
 */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
  return `${stamp}-${Deno.pid}-${randomHex(6)}`;
}

/**
 * Writes `bytes` to `dir/name` atomically: an exclusively created temporary
 * file with a random name, fsync, rename, then a best-effort fsync of the
 * directory. On failure the temporary file is removed.
 */
export async function writeFileAtomic(
  dir: string,
  name: string,
  bytes: Uint8Array,
): Promise<string> {
  const { path: tmp, file } = await createTemporary(dir, name);
  try {
    try {
      let o = 0;
      while (o < bytes.length) o += await file.write(bytes.subarray(o));
      // Durable before it becomes visible: after a power loss the rename can
      // only expose complete content.
      file.syncSync();
    } finally {
      file.close();
    }
    const final = join(dir, name);
    await Deno.rename(tmp, final);
    syncDirectory(dir);
    return final;
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

async function createTemporary(
  dir: string,
  name: string,
): Promise<{ path: string; file: Deno.FsFile }> {
  for (let attempt = 1;; attempt++) {
    const path = join(dir, `.${name}.tmp-${randomHex(8)}`);
    try {
      return {
        path,
        file: await Deno.open(path, { write: true, createNew: true }),
      };
    } catch (e) {
      // 64 random bits: a second collision means something plants names.
      if (!(e instanceof Deno.errors.AlreadyExists) || attempt >= 3) throw e;
    }
  }
}

// Makes the rename itself durable; not every platform lets a directory be
// opened, and losing only the newest checkpoint on power loss is acceptable.
function syncDirectory(dir: string): void {
  try {
    const d = Deno.openSync(dir, { read: true });
    try {
      d.syncSync();
    } finally {
      d.close();
    }
  } catch {
    // best effort
  }
}
