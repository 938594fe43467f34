// Loads h5wasm's Node build on first use (the WASM module is 4 MB; programs
// that never open HDF5 files never load it). That build runs Emscripten's
// NODERAWFS: HDF5 reads the real file through positional reads, so a slice
// costs the bytes of the slice, not a copy of the file in WASM memory.
//
// While it starts, Emscripten enumerates `process.env`, which in Deno needs
// --allow-env. HDF5 needs no variable to read files, so when env access is
// not granted the module starts with an empty environment instead: reading
// HDF5 then needs --allow-read only.

import process from "node:process";

type H5Module = typeof import("h5wasm/node");

let loading: Promise<H5Module> | undefined;

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
    return h5;
  } finally {
    if (swap) Object.defineProperty(process, "env", saved!);
  }
}
