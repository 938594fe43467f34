// The options of openSource and the openers behind it: a misspelt option, one
// meant for another format, or a value of the wrong kind is a TypeError naming
// the option, never silently ignored.

import assert from "node:assert";
import { join } from "node:path";
import {
  arraySource,
  iterableSource,
  openCsv,
  openSource,
} from "../data/mod.ts";
import { bytesOf, writeNpy } from "./fixtures/data/helpers.ts";

async function withFiles(
  fn: (files: { csv: string; npy: string; raw: string }) => Promise<void>,
) {
  const dir = await Deno.makeTempDir();
  try {
    const csv = join(dir, "d.csv");
    await Deno.writeTextFile(csv, "x,y\n1,2\n3,4\n5,nan\n");
    const npy = join(dir, "d.npy");
    await writeNpy(npy, "<f8", [2, 2], bytesOf(Float64Array.of(1, 2, 3, 4)));
    const raw = join(dir, "d.f64");
    await Deno.writeFile(raw, bytesOf(Float64Array.of(1, 2, 3, 4)));
    await fn({ csv, npy, raw });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function typeError(run: Promise<unknown>, re: RegExp) {
  await assert.rejects(run, (e: unknown) => {
    assert.ok(e instanceof TypeError, String(e));
    assert.match((e as Error).message, re);
    return true;
  });
}

Deno.test("openSource: unknown and misplaced options name the option", async () => {
  await withFiles(async ({ csv, npy, raw }) => {
    await typeError(
      openSource(csv, { delimeter: ";" } as never),
      /openSource: unknown option "delimeter" \(known: x, y, sigma, format, dropInvalid, dtype, columns, layout, byteOffset, dataset, delimiter, header, binaryCopy\)/,
    );
    await typeError(
      openSource(npy, { delimiter: ";" }),
      /option "delimiter" applies to csv and tsv files, not npy/,
    );
    await typeError(
      openSource(csv, { columns: 2 }),
      /option "columns" applies to raw files, not csv/,
    );
    await typeError(
      openSource(raw, { columns: 2, dataset: "/t" }),
      /option "dataset" applies to hdf5 files, not raw/,
    );
    await typeError(
      openSource(csv, { header: false, format: "npy" }),
      /option "header" applies to csv and tsv files, not npy/,
    );
    await typeError(
      openSource(npy, { binaryCopy: "file" }),
      /option "binaryCopy" applies to csv and tsv files, not npy/,
    );
    await typeError(
      openSource(csv, { binaryCopy: "disk" as never }),
      /binaryCopy must be "auto", "memory", "file" or "none", got "disk"/,
    );
    await typeError(
      openSource(csv, null as never),
      /options must be an object/,
    );
    // Options left undefined (as a CLI builds them) are not "given".
    const src = await openSource(raw, { columns: 2, delimiter: undefined });
    assert.strictEqual(src.length, 2);
  });
});

Deno.test("openers: dropInvalid, header and column references of the wrong kind", async () => {
  await withFiles(async ({ csv, npy, raw }) => {
    // "no" is truthy: it would have dropped the NaN row.
    await typeError(
      openSource(csv, { dropInvalid: "no" as never }),
      /dropInvalid must be true or false, got "no"/,
    );
    await typeError(
      openCsv(csv, { header: 0 as never }),
      /header must be true or false, got 0/,
    );
    await typeError(
      openSource(npy, { dropInvalid: 1 as never }),
      /dropInvalid must be true or false, got 1/,
    );
    await typeError(
      openSource(raw, { columns: 2, dropInvalid: "yes" as never }),
      /dropInvalid/,
    );
    await typeError(
      openSource(csv, { y: null as never }),
      /y must be a column name or a 0-based index, got null/,
    );
    await typeError(
      openSource(csv, { x: ["x", true] as never }),
      /x must be a column name or a 0-based index, got true/,
    );
    await typeError(
      openSource(npy, { sigma: {} as never }),
      /sigma must be a column name or a 0-based index/,
    );
    assert.throws(
      () =>
        arraySource([1, 2], [1, 2], undefined, { dropInvalid: "no" as never }),
      /dropInvalid must be true or false/,
    );
    assert.throws(
      () => iterableSource([], { nFeatures: 1, dropInvalid: 0 as never }),
      /dropInvalid must be true or false/,
    );
    // The well-typed call still drops the NaN row.
    const ok = await openSource(csv, { dropInvalid: true });
    assert.deepStrictEqual(Array.from((await ok.readAll!()).y), [2, 4]);
  });
});

Deno.test("arraySource refuses 64-bit integer arrays by name", () => {
  assert.throws(
    () => arraySource([1, 2], BigInt64Array.of(1n, 2n) as never),
    (e: unknown) =>
      e instanceof TypeError &&
      /^y: BigInt64Array is not supported; convert to Float64Array$/.test(
        e.message,
      ),
  );
  assert.throws(
    () => arraySource([BigUint64Array.of(1n)] as never, [1]),
    /TypeError: x\[0\]: BigUint64Array is not supported/,
  );
});
