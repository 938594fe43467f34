// File identity for change detection and checkpoint fingerprints. A file is
// "the same" while its size, modification time and inode are unchanged; every
// batch re-checks this with one stat (cheap next to the read itself).

import { requireNodeBuiltin } from "../runtime/host.ts";
import { DataSourceError } from "./data_source_error.ts";

/** What a file looked like when it was opened. */
export interface FileSnapshot {
  /** The path as given (used in messages). */
  path: string;
  /** Absolute path (used for reads and fingerprints). */
  absolute: string;
  size: number;
  mtimeMs: number | undefined;
  ino: number | null;
}

/** Stats `path`; a missing file or a directory throws a typed error. */
export async function snapshot(path: string): Promise<FileSnapshot> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new DataSourceError("format", "no such file", { path }, {
        cause: error,
      });
    }
    throw error;
  }
  if (!info.isFile) {
    throw new DataSourceError("format", "not a regular file", { path });
  }
  return {
    path,
    absolute: requireNodeBuiltin("node:path", "files").resolve(path),
    size: info.size,
    mtimeMs: info.mtime?.getTime(),
    ino: info.ino,
  };
}

/** Throws a `"changed"` error when the file is no longer as in `snap`. */
export async function assertUnchanged(snap: FileSnapshot): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(snap.absolute);
  } catch (error) {
    throw new DataSourceError(
      "changed",
      "the file was removed while being read",
      { path: snap.path },
      { cause: error },
    );
  }
  if (info.size !== snap.size) {
    throw new DataSourceError(
      "changed",
      `the file changed size while being read (${snap.size} -> ${info.size} bytes)`,
      { path: snap.path },
    );
  }
  if (info.mtime?.getTime() !== snap.mtimeMs || info.ino !== snap.ino) {
    throw new DataSourceError(
      "changed",
      "the file was modified or replaced while being read",
      { path: snap.path },
    );
  }
}

/** Reads exactly `length` bytes at `offset` into `into` (from its start). */
export async function readExactly(
  file: Deno.FsFile,
  offset: number,
  into: Uint8Array,
  path: string,
): Promise<void> {
  await file.seek(offset, Deno.SeekMode.Start);
  let done = 0;
  while (done < into.length) {
    const n = await file.read(into.subarray(done));
    if (n === null) {
      throw new DataSourceError(
        "changed",
        `unexpected end of file at byte ${
          offset + done
        } (wanted ${into.length} bytes at ${offset})`,
        { path },
      );
    }
    done += n;
  }
}

/**
 * A fingerprint: format, size, mtime, the selection, and a SHA-256 of the
 * first and last KiB (so a rewritten file with the same size and a restored
 * mtime still differs). No path: a moved file (mtime kept) is the same data.
 */
export async function fileFingerprint(
  snap: FileSnapshot,
  format: string,
  selection: string,
): Promise<string> {
  const file = await Deno.open(snap.absolute, { read: true });
  try {
    const head = new Uint8Array(Math.min(1024, snap.size));
    await readExactly(file, 0, head, snap.path);
    const tailLength = Math.min(1024, snap.size);
    const tail = new Uint8Array(tailLength);
    await readExactly(file, snap.size - tailLength, tail, snap.path);
    const both = new Uint8Array(head.length + tail.length);
    both.set(head);
    both.set(tail, head.length);
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", both),
    );
    const hex = Array.from(
      digest.subarray(0, 8),
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
    return `${format}:${snap.size}:${snap.mtimeMs ?? "?"}:${selection}:${hex}`;
  } finally {
    file.close();
  }
}
