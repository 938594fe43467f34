// Parsers for scheduler and GPU environment values. Each returns `null` for a
// value it cannot read, so callers can fall back to the next source.

/** A non-negative integer from decimal text, else `null`. */
export function parseCount(text: string | undefined): number | null {
  if (text === undefined) return null;
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : null;
}

/**
 * GPUs per node from `SLURM_GPUS_ON_NODE` / `SLURM_GPUS_PER_NODE`: `4`,
 * `gpu:4`, `a100:4`, `gpu:a100:4`, `gpu:a100:4(S:0-1)`, or a comma list of
 * those whose counts add up (`gpu:a100:2,gpu:v100:2`).
 */
export function parseGpuSpec(text: string | undefined): number | null {
  if (text === undefined || text.trim() === "") return null;
  let total = 0;
  // Commas inside "(S:0,1)" socket lists are not separators.
  for (const item of text.replace(/\([^)]*\)/g, "").split(",")) {
    const last = item.trim().split(":").pop() ?? "";
    const n = parseCount(last);
    if (n === null) return null;
    total += n;
  }
  return total;
}

/**
 * Devices listed in `CUDA_VISIBLE_DEVICES` / `ROCR_VISIBLE_DEVICES`: `0,1`,
 * UUIDs, or `""`/`-1`/`NoDevFiles` for none. CUDA stops at the first invalid
 * (negative) index, so counting does too.
 */
export function parseVisibleDevices(text: string): number {
  const t = text.trim();
  if (t === "" || t === "NoDevFiles") return 0;
  let n = 0;
  for (const item of t.split(",")) {
    const s = item.trim();
    if (s === "" || s.startsWith("-")) break;
    n++;
  }
  return n;
}

/** Unique hosts of a `PBS_NODEFILE` (one line per slot), with their slots. */
export function parseNodefile(
  text: string,
): { hosts: string[]; slots: number[] } {
  const slotsByHost = new Map<string, number>();
  for (const line of text.split(/\r?\n/)) {
    // Some PBS flavours append attributes after the host name.
    const host = line.trim().split(/\s+/)[0];
    if (!host || host.startsWith("#")) continue;
    slotsByHost.set(host, (slotsByHost.get(host) ?? 0) + 1);
  }
  return { hosts: [...slotsByHost.keys()], slots: [...slotsByHost.values()] };
}

/**
 * Slurm's compressed per-node counts (`SLURM_TASKS_PER_NODE`): `2(x3),1` is
 * `[2, 2, 2, 1]`.
 */
export function parseTasksPerNode(text: string | undefined): number[] | null {
  if (text === undefined || text.trim() === "") return null;
  const out: number[] = [];
  for (const item of text.split(",")) {
    const m = /^\s*(\d+)(?:\(x(\d+)\))?\s*$/.exec(item);
    if (!m) return null;
    const reps = m[2] === undefined ? 1 : Number(m[2]);
    for (let i = 0; i < reps; i++) out.push(Number(m[1]));
  }
  return out;
}

/** GPUs listed by `nvidia-smi -L` (lines `GPU 0: ... (UUID: ...)`). */
export function countNvidiaSmiGpus(text: string): number {
  return text.split(/\r?\n/).filter((l) => /^GPU \d+:/.test(l.trim())).length;
}
