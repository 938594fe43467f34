/**
 * Slurm hostlist expansion (`SLURM_JOB_NODELIST`).
 *
 * @module
 */

/**
 * A hostlist expression that does not follow Slurm's syntax.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.throws(() => expandHostlist("node[01-"), HostlistSyntaxError);
 * ```
 */
export class HostlistSyntaxError extends SyntaxError {
  /** The expression that failed to parse. */
  readonly hostlist: string;

  /**
   * Builds the error for `hostlist`.
   *
   * @param hostlist the offending expression
   * @param problem what is wrong with it
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * const e = new HostlistSyntaxError("n[1-", "unclosed '['");
   * assert.strictEqual(e.hostlist, "n[1-");
   * ```
   */
  constructor(hostlist: string, problem: string) {
    super(`Invalid hostlist "${hostlist}": ${problem}`);
    this.name = "HostlistSyntaxError";
    this.hostlist = hostlist;
  }
}

/** Largest expansion accepted; guards against `n[0-999999999]` typos. */
const MAX_HOSTS = 1_000_000;

function splitTopLevel(spec: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < spec.length; i++) {
    const c = spec[i];
    if (c === "[") {
      if (depth > 0) throw new HostlistSyntaxError(spec, "nested '['");
      depth++;
    } else if (c === "]") {
      if (depth === 0) throw new HostlistSyntaxError(spec, "unmatched ']'");
      depth--;
    } else if (c === "," && depth === 0) {
      parts.push(spec.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) throw new HostlistSyntaxError(spec, "unclosed '['");
  parts.push(spec.slice(start));
  return parts;
}

function expandRanges(spec: string, body: string): string[] {
  const out: string[] = [];
  for (const range of body.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(range.trim());
    if (!m) {
      throw new HostlistSyntaxError(spec, `bad range "${range}"`);
    }
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) {
      throw new HostlistSyntaxError(spec, `range "${range}" runs backwards`);
    }
    if (hi - lo + 1 > MAX_HOSTS) {
      throw new RangeError(
        `Hostlist "${spec}" expands to more than ${MAX_HOSTS} hosts`,
      );
    }
    // Slurm pads every number to the width of the range's first bound.
    const width = m[1].length;
    for (let n = lo; n <= hi; n++) out.push(String(n).padStart(width, "0"));
  }
  return out;
}

function expandItem(spec: string, item: string): string[] {
  let hosts = [""];
  const re = /\[([^\]]*)\]/g;
  let last = 0;
  for (let m = re.exec(item); m !== null; m = re.exec(item)) {
    const prefix = item.slice(last, m.index);
    const values = expandRanges(spec, m[1]);
    if (hosts.length * values.length > MAX_HOSTS) {
      throw new RangeError(
        `Hostlist "${spec}" expands to more than ${MAX_HOSTS} hosts`,
      );
    }
    // The first bracket group varies slowest, as in Slurm.
    hosts = hosts.flatMap((h) => values.map((v) => h + prefix + v));
    last = re.lastIndex;
  }
  const suffix = item.slice(last);
  return hosts.map((h) => h + suffix);
}

/**
 * Expands a Slurm hostlist expression into host names, in order.
 *
 * Supports ranges and single numbers in brackets (`node[01-04,07]`), zero
 * padding (the width of each range's first bound), several bracket groups in
 * one name (`rack[1-2]-node[01-02]`, first group slowest) and comma-separated
 * lists (`a[1-2],b3`). Duplicates are kept, as Slurm keeps them.
 *
 * @param hostlist the expression, e.g. the value of `SLURM_JOB_NODELIST`
 * @returns the host names; `[]` for an empty expression
 * @throws {HostlistSyntaxError} on unbalanced brackets or malformed ranges
 * @throws {RangeError} when the expansion exceeds a million hosts
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.deepStrictEqual(expandHostlist("node[01-03,07]"), [
 *   "node01", "node02", "node03", "node07",
 * ]);
 * assert.deepStrictEqual(expandHostlist("r[1-2]-n[1-2],gpu5"), [
 *   "r1-n1", "r1-n2", "r2-n1", "r2-n2", "gpu5",
 * ]);
 * ```
 */
export function expandHostlist(hostlist: string): string[] {
  const spec = hostlist.trim();
  if (spec === "") return [];
  const hosts: string[] = [];
  for (const raw of splitTopLevel(spec)) {
    const item = raw.trim();
    if (item === "") throw new HostlistSyntaxError(spec, "empty host name");
    for (const h of expandItem(spec, item)) {
      if (hosts.length >= MAX_HOSTS) {
        throw new RangeError(
          `Hostlist "${spec}" expands to more than ${MAX_HOSTS} hosts`,
        );
      }
      hosts.push(h);
    }
  }
  return hosts;
}
