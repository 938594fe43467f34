// A streaming fit of a data file with checkpoints, run as a child process by
// the crash tests (which SIGKILL it mid-pass and resume in a new process).
//
//   deno run -A tests/streaming/fit_child.ts DATA CKPT_DIR OUT_JSON \
//     [--resume] [--batch N] [--throttle-ms MS] [--no-warm-start]
//
// --throttle-ms sleeps between batches so a test can reliably kill the
// process mid-pass; it changes timing only, never the arithmetic.

import { parseArgs } from "node:util";
import { fit } from "../../workflow/fit.ts";
import { model } from "../../model/model.ts";
import { openSource } from "../../data/mod.ts";
import type { BatchSourceLike } from "../../strategies/strategy.ts";

/** The problem every crash-test run solves. */
export const CHILD_MODEL = "a * exp(-b * x) + c";
/** Tolerances tight enough that the result is the exact minimum. */
export const CHILD_TOLERANCES = { ftol: 1e-12, xtol: 1e-12, gtol: 1e-12 };
/** Starting point. */
export const CHILD_P0 = [1, 1, 0];

/** Delays every batch of a source by `ms` (same data, same fingerprint). */
export function throttled(src: BatchSourceLike, ms: number): BatchSourceLike {
  return {
    get length() {
      return src.length;
    },
    nFeatures: src.nFeatures,
    hasSigma: src.hasSigma,
    description: src.description,
    fingerprint: src.fingerprint,
    async *batches(batchSize, options) {
      for await (const b of src.batches(batchSize, options)) {
        await new Promise((r) => setTimeout(r, ms));
        yield b;
      }
    },
    close: () => src.close(),
  };
}

if (import.meta.main) {
  const { positionals, values } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      resume: { type: "boolean", default: false },
      batch: { type: "string", default: "250000" },
      "throttle-ms": { type: "string", default: "0" },
      "no-warm-start": { type: "boolean", default: false },
    },
  });
  const [dataPath, dir, outPath] = positionals;
  const raw = dataPath.endsWith(".npy")
    ? await openSource(dataPath)
    : await openSource(dataPath, { format: "raw", dtype: "f64", columns: 2 });
  const ms = Number(values["throttle-ms"]);
  const src = ms > 0 ? throttled(raw, ms) : raw;
  const r = await fit(model(CHILD_MODEL), src, {
    p0: CHILD_P0,
    ...CHILD_TOLERANCES,
    workflow: {
      strategy: "streaming",
      config: {
        batchSize: Number(values.batch),
        warmStart: !values["no-warm-start"],
      },
    },
    checkpointDir: dir === "-" ? undefined : dir,
    resume: values.resume,
  });
  await src.close();
  await Deno.writeTextFile(
    outPath,
    JSON.stringify({
      popt: Array.from(r.popt),
      nit: r.nit,
      nfev: r.nfev,
      cost: r.cost,
      notes: r.notes,
    }),
  );
}
