// Streaming fits of NPY tables on WebGPU, where every batch is uploaded as
// the file holds it (interleaved rows) and summed on the device: the
// answer equals the in-memory fit, and bad values, which only the kernels
// see, are still named by row and column (or their rows dropped).
import assert from "node:assert";
import { join } from "node:path";
import { fit } from "../workflow/fit.ts";
import { model } from "../model/model.ts";
import { DataSourceError, openSource } from "../data/mod.ts";
import { getGpuInfo } from "../gpu/device.ts";
import { decayData, writeNpyTable } from "./streaming/data_files.ts";

let HAS_F64 = false;
try {
  HAS_F64 = (await getGpuInfo()).f64;
} catch {
  // no adapter
}
if (!HAS_F64) {
  console.warn(
    "strategies_streaming_gpu_test: no WebGPU adapter with shader-f64, tests IGNORED",
  );
}

const DECAY = model("a * exp(-b * x) + c");
const P0 = [1, 1, 0];
const TOL = { ftol: 1e-14, xtol: 1e-14, gtol: 1e-14 };
const STREAM = { strategy: "streaming", config: { batchSize: 701 } };

function assertClose(a: ArrayLike<number>, b: ArrayLike<number>, rel: number) {
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i] - b[i]) / Math.abs(b[i]);
    assert.ok(d <= rel, `parameter ${i}: ${a[i]} vs ${b[i]} (rel ${d})`);
  }
}

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "nlsq_stream_gpu_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name:
    "streaming on WebGPU: an NPY table (y, x columns swapped) equals the in-memory fit to 1e-10",
  ignore: !HAS_F64,
  async fn() {
    await withDir(async (dir) => {
      const d = decayData(30_000, { seed: 53 });
      const path = join(dir, "t.npy");
      await writeNpyTable(path, [d.y, d.x]);
      const ref = await fit(DECAY, d.x, d.y, {
        p0: P0,
        ...TOL,
        workflow: "standard",
      });
      const src = await openSource(path, { x: 1, y: 0 });
      const r = await fit(DECAY, src, {
        p0: P0,
        ...TOL,
        workflow: STREAM,
        backend: "webgpu",
      });
      await src.close();
      assert.match(r.backend, /^webgpu f64 .*streaming, batches of 701/);
      assert.ok(r.success, r.message);
      assertClose(r.popt, ref.popt, 1e-10);
      assert.ok(Math.abs(r.cost - ref.cost) <= 1e-10 * ref.cost);
      assert.ok(Math.abs(r.rSquared - ref.rSquared) <= 1e-12);
      assert.strictEqual(r.nPoints, 30_000);
    });
  },
});

Deno.test({
  name:
    "streaming on WebGPU: a bad value in a table is named by row and column, or its row dropped",
  ignore: !HAS_F64,
  async fn() {
    await withDir(async (dir) => {
      const n = 20_000;
      const d = decayData(n, { seed: 59 });
      // Infinity in x: exp(-b * inf) is 0, the residual finite; only the
      // kernels' count of bad inputs sees it.
      for (const [row, col, bad] of [[7_003, 0, Infinity], [15_000, 1, NaN]]) {
        const cols = [d.x.slice(), d.y.slice()];
        cols[col][row] = bad;
        const path = join(dir, `bad${col}.npy`);
        await writeNpyTable(path, cols);
        const opts = {
          p0: P0,
          ...TOL,
          workflow: STREAM,
          backend: "webgpu" as const,
        };
        const strict = await openSource(path);
        await assert.rejects(
          fit(DECAY, strict, opts),
          (e) =>
            e instanceof DataSourceError && e.code === "not-finite" &&
            e.row === row && e.column === col,
        );
        await strict.close();
        const keep = (a: Float64Array) => a.filter((_, i) => i !== row);
        const ref = await fit(DECAY, keep(d.x), keep(d.y), {
          p0: P0,
          ...TOL,
          workflow: "standard",
        });
        const dropped = await openSource(path, { dropInvalid: true });
        const r = await fit(DECAY, dropped, opts);
        await dropped.close();
        assert.match(r.backend, /^webgpu f64/);
        assertClose(r.popt, ref.popt, 1e-10);
        assert.strictEqual(r.nPoints, n - 1);
        assert.ok(Math.abs(r.rSquared - ref.rSquared) <= 1e-12);
      }
    });
  },
});
