// Container memory limits. A process in a cgroup with a memory limit is killed
// when it exceeds the limit, however much free memory the host reports, so the
// cgroup's remaining allowance caps the system figure.

import { canRead } from "../runtime/permissions.ts";
import { nodeBuiltin } from "../runtime/host.ts";

/** A memory limit found in a cgroup control file. */
export interface CgroupLimit {
  version: 1 | 2;
  limitBytes: number;
  usageBytes: number;
  /** `max(0, limitBytes - usageBytes)`. */
  remainingBytes: number;
  /** The control file the limit was read from. */
  file: string;
}

/** The tightest cgroup limit that applies (or null) and what was skipped. */
export interface CgroupReadResult {
  limit: CgroupLimit | null;
  notes: string[];
}

// cgroup v1 reports "no limit" as LONG_MAX rounded down to a page multiple.
const V1_UNLIMITED_BYTES = 2 ** 60;

/**
 * Reads the cgroup v2 (`memory.max` - `memory.current`) and v1
 * (`memory.limit_in_bytes` - `memory.usage_in_bytes`) limits that apply to this
 * process: those of its own cgroup (from `selfCgroupFile`) and of the hierarchy
 * root, returning the one with the least remaining memory.
 */
export function readCgroupMemoryLimit(
  root: string,
  selfCgroupFile: string,
): CgroupReadResult {
  const notes: string[] = [];
  const self = readSelfCgroup(selfCgroupFile);
  const base = root.replace(/\/+$/, "");
  const candidates: { version: 1 | 2; dir: string }[] = [];
  if (self.v2 !== undefined && self.v2 !== "/") {
    candidates.push({ version: 2, dir: base + self.v2 });
  }
  candidates.push({ version: 2, dir: base });
  if (self.v1 !== undefined && self.v1 !== "/") {
    candidates.push({ version: 1, dir: `${base}/memory${self.v1}` });
  }
  candidates.push({ version: 1, dir: `${base}/memory` });

  let best: CgroupLimit | null = null;
  let deniedNoted = false;
  for (const { version, dir } of candidates) {
    const limitFile = `${dir}/${
      version === 2 ? "memory.max" : "memory.limit_in_bytes"
    }`;
    const usageFile = `${dir}/${
      version === 2 ? "memory.current" : "memory.usage_in_bytes"
    }`;
    if (!mayRead(limitFile)) {
      if (!deniedNoted) {
        notes.push(
          `cgroup memory limit not checked: read permission for ${base} not granted (--allow-read=${base})`,
        );
        deniedNoted = true;
      }
      continue;
    }
    const limitText = readOptional(limitFile);
    if (limitText === undefined) continue;
    const trimmed = limitText.trim();
    if (trimmed === "max") continue;
    const limitBytes = Number(trimmed);
    if (!Number.isFinite(limitBytes) || limitBytes < 0) {
      notes.push(
        `ignored unparseable cgroup limit in ${limitFile}: "${trimmed}"`,
      );
      continue;
    }
    if (version === 1 && limitBytes >= V1_UNLIMITED_BYTES) continue;
    const usageText = mayRead(usageFile) ? readOptional(usageFile) : undefined;
    const usageParsed = usageText === undefined ? 0 : Number(usageText.trim());
    const usageBytes = Number.isFinite(usageParsed) && usageParsed > 0
      ? usageParsed
      : 0;
    const remainingBytes = Math.max(0, limitBytes - usageBytes);
    if (best === null || remainingBytes < best.remainingBytes) {
      best = {
        version,
        limitBytes,
        usageBytes,
        remainingBytes,
        file: limitFile,
      };
    }
  }
  return { limit: best, notes };
}

/** The v2 path ("0::/a/b") and the v1 memory-controller path ("4:memory:/a"). */
function readSelfCgroup(file: string): { v1?: string; v2?: string } {
  if (!mayRead(file)) return {};
  const text = readOptional(file);
  if (text === undefined) return {};
  const out: { v1?: string; v2?: string } = {};
  for (const line of text.split("\n")) {
    const first = line.indexOf(":");
    const second = line.indexOf(":", first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1).trim();
    if (line.slice(0, first) === "0" && controllers === "") out.v2 = path;
    else if (controllers.split(",").includes("memory")) out.v1 = path;
  }
  return out;
}

/**
 * True when `file` may be read without prompting: under Deno when the read
 * permission is granted; under Node and Bun (no Deno permissions) always,
 * and the read itself reports what the operating system refuses.
 */
export function mayRead(file: string): boolean {
  return !isDeno() || canRead(file);
}

/** The text of `file`, or undefined when it is missing or unreadable. */
export function readOptional(file: string): string | undefined {
  try {
    if (isDeno()) return Deno.readTextFileSync(file);
    // Node and Bun; a browser has no files to read.
    return nodeBuiltin("node:fs")?.readFileSync(file, "utf8");
  } catch {
    // Missing files are the normal case (no cgroup, other version, no limit).
    return undefined;
  }
}

/** True under Deno; false under Node and Bun, which have no `Deno` global. */
export function isDeno(): boolean {
  return "Deno" in globalThis;
}
