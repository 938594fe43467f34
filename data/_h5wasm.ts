// Loads h5wasm's Node build on first use (the WASM module is 4 MB; programs
// that never open HDF5 files never load it). That build runs Emscripten's
// NODERAWFS: HDF5 reads the real file through positional reads, so a slice
// costs the bytes of the slice, not a copy of the file in WASM memory.
//
// While it starts, Emscripten enumerates `process.env`, which in Deno needs
// --allow-env. HDF5 needs no variable to read files, so when env access is
// not granted the module starts with an empty environment instead: reading
// HDF5 then needs --allow-read only.
//
// HDF5's C library reports failures by printing its error stack
// ("HDF5-DIAG: Error detected in HDF5 ...") on stderr. Under NODERAWFS that
// is a write to the process's real fd 2, which no JS hook sees; `quietly`
// diverts those writes while our own calls run, so that a damaged file ends
// in one typed error, not a page of C diagnostics.

import process from "node:process";

type H5Module = typeof import("h5wasm/node");

// The part of Emscripten's FS that stdio goes through: fd_write calls
// FS.write(stream, HEAP8, ptr, len) for every iovec.
interface EmscriptenFs {
  write(
    stream: { fd?: number },
    buffer: Int8Array,
    offset: number,
    length: number,
    position?: number,
  ): number;
}

let loading: Promise<H5Module> | undefined;
let fs: EmscriptenFs | undefined;

/** The h5wasm module, ready to open files. */
export function loadH5wasm(): Promise<H5Module> {
  loading ??= load();
  return loading;
}

async function load(): Promise<H5Module> {
  let envGranted = false;
  try {
    envGranted = Deno.permissions.querySync({ name: "env" }).state ===
      "granted";
  } catch {
    envGranted = false;
  }
  const saved = Object.getOwnPropertyDescriptor(process, "env");
  const swap = !envGranted && saved !== undefined && saved.configurable;
  if (swap) {
    Object.defineProperty(process, "env", {
      value: {},
      configurable: true,
      enumerable: true,
      writable: true,
    });
  }
  try {
    const h5 = await import("h5wasm/node");
    await h5.ready;
    fs = h5.FS as unknown as EmscriptenFs;
    return h5;
  } finally {
    if (swap) Object.defineProperty(process, "env", saved!);
  }
}

/** What a {@linkcode quietly} call did: its value or error, and HDF5's diagnostics. */
export type Quiet<T> =
  | { ok: true; value: T; diagnostics: string }
  | { ok: false; error: unknown; diagnostics: string };

/** Diagnostics kept per call; an HDF5 error stack is a few kB. */
const MAX_DIAGNOSTICS = 1 << 16;
let depth = 0;

/**
 * Runs synchronous h5wasm calls (after {@linkcode loadH5wasm}) with what
 * HDF5 writes to stderr kept instead of printed. Other users of h5wasm in the
 * process are not affected: the diversion lasts for `fn` only.
 */
export function quietly<T>(fn: () => T): Quiet<T> {
  if (fs === undefined || depth > 0) return run(fn, () => "");
  const target = fs;
  const original = target.write;
  const decoder = new TextDecoder();
  let text = "";
  target.write = function (stream, buffer, offset, length, position) {
    if (stream.fd !== 2) {
      return original.call(this, stream, buffer, offset, length, position);
    }
    if (text.length < MAX_DIAGNOSTICS) {
      text += decoder.decode(buffer.subarray(offset, offset + length));
    }
    return length;
  };
  depth++;
  try {
    return run(fn, () => text);
  } finally {
    depth--;
    target.write = original;
  }
}

function run<T>(fn: () => T, diagnostics: () => string): Quiet<T> {
  try {
    const value = fn();
    return { ok: true, value, diagnostics: diagnostics() };
  } catch (error) {
    return { ok: false, error, diagnostics: diagnostics() };
  }
}

/**
 * The innermost message of an HDF5 error stack (the root cause), without
 * the library's source paths: "truncated file: eof = 100, ...". Empty when
 * the text holds no stack.
 */
export function diagnosticSummary(text: string): string {
  let last = "";
  for (const m of text.matchAll(/#\d+: .*? in [\w.]+\(\): (.*)$/gm)) {
    last = m[1].trim();
  }
  return last.length > 200 ? `${last.slice(0, 200)}...` : last;
}
