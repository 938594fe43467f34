// Permission-checked access to the environment, files and commands.
//
// Every probe asks `Deno.permissions.querySync` first and only acts on
// "granted", so detection never prompts and never throws for a missing
// permission; the reason goes to the diagnostics list instead.

/**
 * Where environment variables come from: a plain record (tests), a getter, or
 * (when omitted) `Deno.env` read through the permission system.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { EnvSource } from "@nlsq/nlsq/cluster";
 * const env: EnvSource = { SLURM_JOB_ID: "42" };
 * const get: EnvSource = (name) => name === "HOME" ? "/root" : undefined;
 * assert.strictEqual(typeof get, "function");
 * assert.ok(!(typeof env === "function"));
 * ```
 */
export type EnvSource =
  | Readonly<Record<string, string | undefined>>
  | ((name: string) => string | undefined);

/** Reads one environment variable; `undefined` when unset or not allowed. */
export type EnvReader = (name: string) => string | undefined;

/** Collects the reasons a probe gave up; printed when verbose. */
export class Diagnostics {
  readonly messages: string[] = [];
  #verbose: boolean;
  #prefix: string;

  constructor(verbose: boolean, prefix: string) {
    this.#verbose = verbose;
    this.#prefix = prefix;
  }

  note(message: string): void {
    this.messages.push(message);
    if (this.#verbose) console.error(`${this.#prefix} ${message}`);
  }
}

function granted(descriptor: Deno.PermissionDescriptor): boolean {
  try {
    return Deno.permissions.querySync(descriptor).state === "granted";
  } catch {
    // Runtimes without the permissions API, or a descriptor it rejects.
    return false;
  }
}

/** Builds a reader over `source`, or over `Deno.env` when none is given. */
export function envReader(
  source: EnvSource | undefined,
  diag: Diagnostics,
): EnvReader {
  if (typeof source === "function") return source;
  if (source !== undefined) return (name) => source[name];
  const denied = new Set<string>();
  return (name) => {
    if (!granted({ name: "env", variable: name })) {
      if (!denied.has(name)) {
        denied.add(name);
        diag.note(`env ${name}: no --allow-env permission, treated as unset`);
      }
      return undefined;
    }
    try {
      return Deno.env.get(name);
    } catch (e) {
      diag.note(`env ${name}: ${(e as Error).message}`);
      return undefined;
    }
  };
}

/** Text of `path`, or `null` (with a note) when not allowed or unreadable. */
export function readTextChecked(
  path: string,
  diag: Diagnostics,
): string | null {
  if (!granted({ name: "read", path })) {
    diag.note(`read ${path}: no --allow-read permission`);
    return null;
  }
  try {
    return Deno.readTextFileSync(path);
  } catch (e) {
    diag.note(`read ${path}: ${(e as Error).message}`);
    return null;
  }
}

/**
 * Entries of directory `path`: `null` when not allowed (unknown), `[]` when
 * it does not exist.
 */
export function readDirChecked(
  path: string,
  diag: Diagnostics,
): string[] | null {
  if (!granted({ name: "read", path })) {
    diag.note(`read ${path}: no --allow-read permission`);
    return null;
  }
  try {
    return [...Deno.readDirSync(path)].map((entry) => entry.name);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    diag.note(`read ${path}: ${(e as Error).message}`);
    return null;
  }
}

/** Stdout of `command args`, or `null` when not allowed, absent or failing. */
export function runChecked(
  command: string,
  args: string[],
  diag: Diagnostics,
): string | null {
  if (!granted({ name: "run", command })) {
    diag.note(`run ${command}: no --allow-run permission`);
    return null;
  }
  try {
    const out = new Deno.Command(command, {
      args,
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    if (!out.success) {
      diag.note(`run ${command}: exited with code ${out.code}`);
      return null;
    }
    return new TextDecoder().decode(out.stdout);
  } catch (e) {
    diag.note(
      e instanceof Deno.errors.NotFound
        ? `run ${command}: not installed`
        : `run ${command}: ${(e as Error).message}`,
    );
    return null;
  }
}

/** The host name, or `"localhost"` without `--allow-sys=hostname`. */
export function hostnameChecked(diag: Diagnostics): string {
  if (!granted({ name: "sys", kind: "hostname" })) {
    diag.note("hostname: no --allow-sys=hostname permission");
    return "localhost";
  }
  try {
    return Deno.hostname();
  } catch (e) {
    diag.note(`hostname: ${(e as Error).message}`);
    return "localhost";
  }
}

/** Whether a permission is granted, without prompting. */
export function isGranted(descriptor: Deno.PermissionDescriptor): boolean {
  return granted(descriptor);
}
