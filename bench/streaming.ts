/**
 * Streaming benchmark: the same data fitted from memory (standard) and
 * streamed from files (raw f64 and NPY) in batches sized from the memory
 * budget, with time, passes, time per point per pass, and the difference
 * from the in-memory parameters. (`bench/io.ts` compares whole streamed
 * fits with in-memory ones, each in a fresh process, up to 1e8 points.)
 */

import { fit, model, openSource } from "../mod.ts";
import { CASES, makeData } from "./engine.ts";

/** One row of the streaming section. */
export interface StreamingRow {
  section: string;
  source: string;
  n: number;
  batchSize: number | null;
  timeMs: number;
  nfev: number;
  nsPerPointPerPass: number;
  maxRelDiffVsMemory: number;
  backend: string;
}

function npyBytes(cols: Float64Array[]): Uint8Array {
  const n = cols[0].length, k = cols.length;
  let header =
    `{'descr': '<f8', 'fortran_order': False, 'shape': (${n}, ${k}), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += " ".repeat(pad) + "\n";
  const out = new Uint8Array(10 + header.length + n * k * 8);
  out.set([0x93, ...new TextEncoder().encode("NUMPY"), 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  const body = new Float64Array(out.buffer, 10 + header.length, n * k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) body[i * k + j] = cols[j][i];
  }
  return out;
}

/** Runs the streaming section. */
export async function runStreamingBench(
  opts: { quick?: boolean } = {},
): Promise<StreamingRow[]> {
  const n = opts.quick ? 500_000 : 5_000_000;
  const c = CASES[0];
  const m = model(c.expr);
  const { x, y } = makeData(c, n);
  const dir = await Deno.makeTempDir({ prefix: "nlsq_stream_bench_" });
  const rows: StreamingRow[] = [];
  try {
    const raw = `${dir}/data.f64`;
    const inter = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      inter[2 * i] = x[i];
      inter[2 * i + 1] = y[i];
    }
    await Deno.writeFile(raw, new Uint8Array(inter.buffer));
    await Deno.writeFile(`${dir}/data.npy`, npyBytes([x, y]));
    const t0 = performance.now();
    const ref = await fit(m, x, y, {
      p0: c.p0,
      workflow: "standard",
      backend: "cpu",
    });
    const tRef = performance.now() - t0;
    const add = (
      source: string,
      r: typeof ref,
      t: number,
      bs: number | null,
    ) => {
      let d = 0;
      for (let i = 0; i < 3; i++) {
        d = Math.max(
          d,
          Math.abs(r.popt[i] - ref.popt[i]) / Math.abs(ref.popt[i]),
        );
      }
      rows.push({
        section: "streaming",
        source,
        n,
        batchSize: bs,
        timeMs: t,
        nfev: r.nfev,
        nsPerPointPerPass: t * 1e6 / (n * r.nfev),
        maxRelDiffVsMemory: d,
        backend: r.backend,
      });
    };
    add("in-memory (standard)", ref, tRef, null);
    for (
      const [name, path, o] of [
        ["raw f64 file", raw, { columns: 2, x: 0, y: 1 }],
        ["npy file", `${dir}/data.npy`, { x: 0, y: 1 }],
      ] as const
    ) {
      const src = await openSource(path, o);
      try {
        const t1 = performance.now();
        const r = await fit(m, src, {
          p0: c.p0,
          workflow: { strategy: "streaming", tolerance: 1e-8 },
          backend: "cpu",
        });
        const bs = /batches of (\d+)/.exec(r.backend);
        add(name, r, performance.now() - t1, bs ? Number(bs[1]) : null);
      } finally {
        await src.close();
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  console.error("streaming done");
  return rows;
}

if (import.meta.main) {
  console.table(
    await runStreamingBench({ quick: Deno.args.includes("--quick") }),
  );
}
