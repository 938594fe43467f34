// Permission checks that never prompt: `querySync` only reports the state, so
// memory detection degrades to a documented fallback instead of blocking on a
// TTY prompt or throwing NotCapable under --no-prompt.

/** True when reading `path` is already granted. */
export function canRead(path: string): boolean {
  return granted({ name: "read", path });
}

/** True when reading environment variable `variable` is already granted. */
export function canReadEnv(variable: string): boolean {
  return granted({ name: "env", variable });
}

/** True when `Deno.systemMemoryInfo()` is already granted. */
export function canReadSystemMemory(): boolean {
  return granted({ name: "sys", kind: "systemMemoryInfo" });
}

/** True when writing to `path` is already granted. */
export function canWrite(path: string): boolean {
  return granted({ name: "write", path });
}

function granted(descriptor: Deno.PermissionDescriptor): boolean {
  try {
    return Deno.permissions.querySync(descriptor).state === "granted";
  } catch {
    // Runtimes without the permissions API (or a rejected descriptor) are
    // treated as "not granted": the callers then use their fallback.
    return false;
  }
}
