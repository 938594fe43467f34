// The gather-and-merge step of the distributed strategy without MPI: the
// Allreduce is replayed by summing the ranks' packed buffers, which is what
// MPI_SUM does. The merged factor must equal the factor of all rows at once.
import assert from "node:assert";
import { model } from "../mod.ts";
import { linearizeRange, mergePartials } from "../core/cpu_evaluator.ts";
import {
  augFromQr,
  type PartialLinearization,
} from "../core/_linearization_forms.ts";
import { shardRange } from "../cluster/distributed_config.ts";
import {
  gatherLength,
  mergeGathered,
  packPartials,
} from "../strategies/_distributed_gather.ts";
import { makeData } from "./distributed/_data.ts";

const m = model("a * exp(-b * x) + c");
const p = 3;
const { x, y, sigma } = makeData(3001);
const data = { x: [x], y, w: sigma.map((s) => 1 / s) };

/** What every rank holds after an Allreduce-sum of the packed slots. */
function allgather(
  parts: PartialLinearization[][],
  withJac: boolean[],
): Float64Array {
  const size = parts.length;
  const sum = new Float64Array(gatherLength(p, size, withJac));
  parts.forEach((rankParts, rank) => {
    const buf = packPartials(rankParts, withJac, p, rank, size);
    for (let i = 0; i < sum.length; i++) sum[i] += buf[i];
  });
  return sum;
}

/** R^T R and R^T qtf, which do not depend on the signs of R's rows. */
function gram(aug: Float64Array): number[] {
  const c = p + 1;
  const out: number[] = [];
  for (let i = 0; i < p; i++) {
    for (let j = i; j < c; j++) {
      let s = 0;
      for (let k = 0; k <= i; k++) s += aug[k * c + i] * aug[k * c + j];
      out.push(s);
    }
  }
  return out;
}

Deno.test("gather: merged shards equal the factor of all rows", () => {
  const thetas = [
    new Float64Array([2, 1, 0]),
    new Float64Array([2.5, 1.3, 0.5]),
  ];
  const withJac = [true, false];
  const whole = thetas.map((t, i) =>
    linearizeRange(m.kernel, p, data, t, 0, y.length, withJac[i])
  );
  for (const size of [1, 2, 3, 7]) {
    const parts = Array.from({ length: size }, (_, r) => {
      const s = shardRange(y.length, size, r);
      return thetas.map((t, i) =>
        linearizeRange(m.kernel, p, data, t, s.start, s.end, withJac[i])
      );
    });
    const merged = mergeGathered(allgather(parts, withJac), withJac, p, size);
    assert.strictEqual(merged[1].aug, null);
    for (let i = 0; i < 2; i++) {
      const rel = Math.abs(merged[i].cost - whole[i].cost) / whole[i].cost;
      assert.ok(rel < 1e-13, `size ${size} cost ${rel}`);
    }
    const a = gram(merged[0].aug!);
    const b = gram(whole[0].aug!);
    a.forEach((v, k) =>
      assert.ok(Math.abs(v - b[k]) <= 1e-12 * Math.abs(b[k]) + 1e-9)
    );
    // Same order of merges as mergePartials: bit-identical to it.
    const direct = mergePartials(parts.map((r) => r[0]), p);
    assert.deepStrictEqual(
      merged[0].aug!.slice(0, p * (p + 1)),
      direct.aug!.slice(0, p * (p + 1)),
    );
  }
});

Deno.test("gather: a non-finite cost on one rank is non-finite on all", () => {
  const withJac = [true];
  const good = { cost: 1, aug: new Float64Array(16).fill(1) };
  const bad = { cost: NaN, aug: null };
  const [merged] = mergeGathered(
    allgather([[good], [bad], [good]], withJac),
    withJac,
    p,
    3,
  );
  assert.ok(Number.isNaN(merged.cost));
  assert.strictEqual(merged.aug, null);
});

Deno.test("gather: a factor rebuilt from (R, Q^T f) merges like the full one", () => {
  const t = new Float64Array([2, 1, 0]);
  const lo = linearizeRange(m.kernel, p, data, t, 0, 1500, true);
  const hi = linearizeRange(m.kernel, p, data, t, 1500, y.length, true);
  const c = p + 1;
  const strip = (aug: Float64Array) => {
    const r = new Float64Array(p * p);
    const qtf = new Float64Array(p);
    for (let i = 0; i < p; i++) {
      for (let j = i; j < p; j++) r[i * p + j] = aug[i * c + j];
      qtf[i] = aug[i * c + p];
    }
    return augFromQr(r, qtf, p);
  };
  const full = mergePartials([lo, hi], p).aug!;
  const rebuilt = mergePartials([
    { cost: lo.cost, aug: strip(lo.aug!) },
    { cost: hi.cost, aug: strip(hi.aug!) },
  ], p).aug!;
  // Every entry but the bottom-right one (the cost travels separately).
  for (let k = 0; k < p * c; k++) {
    assert.ok(Math.abs(full[k] - rebuilt[k]) <= 1e-12 * Math.abs(full[k]));
  }
});

Deno.test("gather: Gram partials from every rank are summed in rank order", () => {
  const p = 2, c = 3;
  const g = (k: number) =>
    Float64Array.from({ length: c * c }, (_, i) => (i + 1) * k);
  const withJac = [true];
  const buf = new Float64Array(gatherLength(p, 2, withJac));
  for (const rank of [0, 1]) {
    const part = packPartials(
      [{ cost: rank + 1, aug: g(rank + 1), gram: true }],
      withJac,
      p,
      rank,
      2,
    );
    for (let i = 0; i < buf.length; i++) buf[i] += part[i];
  }
  const [m] = mergeGathered(buf, withJac, p, 2, true);
  assert.strictEqual(m.cost, 3);
  assert.ok(m.gram);
  for (let i = 0; i < c; i++) {
    for (let j = i; j < c; j++) {
      assert.strictEqual(m.aug![i * c + j], 3 * (i * c + j + 1));
    }
  }
});
