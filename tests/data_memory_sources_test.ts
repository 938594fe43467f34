import assert from "node:assert";
import {
  arraySource,
  type BatchLike,
  DataSourceError,
  iterableSource,
} from "../data/mod.ts";
import {
  assertReproduces,
  collect,
  makeColumns,
} from "./fixtures/data/helpers.ts";

Deno.test("arraySource: views, ranges, several features, sigma", async () => {
  const [x0, x1, y, s] = makeColumns(2500, 4);
  const sigma = s.map((v) => Math.abs(v) + 1);
  const src = arraySource([x0, Array.from(x1)], y, sigma);
  assert.strictEqual(src.nFeatures, 2);
  assert.strictEqual(src.hasSigma, true);
  await assertReproduces(src, { x: [x0, x1], y, sigma });
  // Float64Array input is not copied: batches are views.
  const first = (await src.batches(10)[Symbol.asyncIterator]().next()).value!;
  assert.strictEqual(first.y.buffer, y.buffer);
  // Content fingerprint: equal data, equal print; one changed value differs.
  const again = arraySource([x0, x1], y, sigma);
  assert.strictEqual(src.fingerprint, again.fingerprint);
  const y2 = y.slice();
  y2[1234] += 1e-12;
  assert.notStrictEqual(
    arraySource([x0, x1], y2, sigma).fingerprint,
    src.fingerprint,
  );
  assert.match(src.description, /array \(2500 rows, 2 features, sigma\)/);
});

Deno.test("arraySource: bad arguments and values", async () => {
  assert.throws(() => arraySource([1, 2, 3], [1, 2]), RangeError);
  assert.throws(() => arraySource([1, 2], [1, 2], [1]), /sigma has 1 values/);
  assert.throws(
    () => arraySource([1, "a" as unknown as number], [1, 2]),
    TypeError,
  );
  const src = arraySource([1, 2, 3, 4], [1, NaN, 3, 4]);
  const err = await collect(src, 2).catch((e) => e);
  assert.ok(err instanceof DataSourceError);
  assert.strictEqual(err.row, 1);
  assert.strictEqual(err.column, "y");
  const neg = arraySource([1, 2, 3], [1, 2, 3], [1, -1, 1]);
  await assert.rejects(
    collect(neg, 2),
    /row 1, column "sigma": sigma must be positive, got -1/,
  );
  const dropped = arraySource([1, 2, 3, 4], [1, NaN, 3, 4], undefined, {
    dropInvalid: true,
  });
  assert.deepStrictEqual((await collect(dropped, 3)).y, [1, 3, 4]);
  assert.deepStrictEqual(
    (await dropped.readAll!()).x[0],
    new Float64Array([1, 3, 4]),
  );
  src.close();
  await assert.rejects(collect(src, 2), /closed/);
});

Deno.test("iterableSource: re-cuts uneven pieces, ranges, several passes", async () => {
  const [x0, x1, y, s] = makeColumns(3000, 4);
  const sigma = s.map((v) => Math.abs(v) + 1);
  let passes = 0;
  function* produce(): Generator<BatchLike> {
    passes++;
    // Pieces of uneven sizes, including empty ones.
    const sizes = [0, 1, 17, 500, 0, 1024, 3, 1455];
    let at = 0;
    for (const k of sizes) {
      yield {
        x: [x0.subarray(at, at + k), Array.from(x1.subarray(at, at + k))],
        y: y.subarray(at, at + k),
        sigma: sigma.subarray(at, at + k),
      };
      at += k;
    }
    assert.strictEqual(at, 3000);
  }
  const src = iterableSource(produce, {
    nFeatures: 2,
    length: 3000,
    hasSigma: true,
  });
  await assertReproduces(src, { x: [x0, x1], y, sigma });
  assert.ok(passes >= 5, `${passes} passes`); // each pass calls the factory
  // Async producers and unknown length.
  async function* slow() {
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 1));
      yield { x: [i], y: [i * i] };
    }
  }
  const open = iterableSource(slow, { nFeatures: 1 });
  assert.strictEqual(open.length, undefined);
  const got = await collect(open, 2, { start: 1 });
  assert.deepStrictEqual(got.y, [1, 4, 9, 16]);
  assert.deepStrictEqual(got.starts, [1, 3]);
  assert.deepStrictEqual(Array.from((await open.readAll!()).y), [
    0,
    1,
    4,
    9,
    16,
  ]);
});

Deno.test("iterableSource: single-use iterables, length and shape checks", async () => {
  const once = iterableSource([{ x: [1, 2], y: [3, 4] }], { nFeatures: 1 });
  assert.deepStrictEqual((await collect(once, 5)).y, [3, 4]);
  const err = await collect(once, 5).catch((e) => e);
  assert.ok(err instanceof DataSourceError);
  assert.strictEqual(err.code, "exhausted");

  const short = iterableSource(() => [{ x: [1, 2], y: [3, 4] }], {
    nFeatures: 1,
    length: 3,
  });
  await assert.rejects(
    collect(short, 5),
    /yielded 2 rows, fewer than the declared length 3/,
  );
  const long = iterableSource(() => [{ x: [1, 2, 3], y: [3, 4, 5] }], {
    nFeatures: 1,
    length: 2,
  });
  await assert.rejects(
    collect(long, 5),
    /more rows than the declared length 2/,
  );
  const wrong = iterableSource(() => [{ x: [[1], [2]], y: [3] }], {
    nFeatures: 1,
  });
  await assert.rejects(collect(wrong, 5), /has 2 x columns, expected 1/);
  const noSigma = iterableSource(() => [{ x: [1], y: [3] }], {
    nFeatures: 1,
    hasSigma: true,
  });
  await assert.rejects(collect(noSigma, 5), /has no sigma/);
  const bad = iterableSource(() => [{ x: [1, 2], y: [3, Infinity] }], {
    nFeatures: 1,
  });
  await assert.rejects(
    collect(bad, 5),
    /row 1, column "y": value Infinity is not finite/,
  );
  assert.throws(() => iterableSource(() => [], { nFeatures: 0 }), RangeError);
  assert.throws(() => iterableSource(42 as never, { nFeatures: 1 }), TypeError);
  // Stopping early at `end` does not pull the rest of an endless producer.
  function* endless() {
    for (let i = 0;; i++) yield { x: [i], y: [i] };
  }
  const inf = iterableSource(endless, { nFeatures: 1 });
  assert.deepStrictEqual((await collect(inf, 4, { start: 2, end: 7 })).y, [
    2,
    3,
    4,
    5,
    6,
  ]);
});
