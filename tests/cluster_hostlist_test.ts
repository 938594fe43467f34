import assert from "node:assert";
import { expandHostlist, HostlistSyntaxError } from "../cluster/mod.ts";

Deno.test("expandHostlist: plain names and comma lists", () => {
  assert.deepStrictEqual(expandHostlist("node1"), ["node1"]);
  assert.deepStrictEqual(expandHostlist("a,b, c"), ["a", "b", "c"]);
  assert.deepStrictEqual(expandHostlist(""), []);
  assert.deepStrictEqual(expandHostlist("  "), []);
});

Deno.test("expandHostlist: ranges and singles in one bracket", () => {
  assert.deepStrictEqual(expandHostlist("node[01-04,07]"), [
    "node01",
    "node02",
    "node03",
    "node04",
    "node07",
  ]);
  assert.deepStrictEqual(expandHostlist("n[3]"), ["n3"]);
});

Deno.test("expandHostlist: zero padding follows the first bound", () => {
  assert.deepStrictEqual(expandHostlist("c[098-101]"), [
    "c098",
    "c099",
    "c100",
    "c101",
  ]);
  assert.deepStrictEqual(expandHostlist("c[8-11]"), ["c8", "c9", "c10", "c11"]);
  assert.deepStrictEqual(expandHostlist("c[0001-0002]"), ["c0001", "c0002"]);
});

Deno.test("expandHostlist: several bracket groups, first slowest", () => {
  assert.deepStrictEqual(expandHostlist("rack[1-2]-node[01-02]"), [
    "rack1-node01",
    "rack1-node02",
    "rack2-node01",
    "rack2-node02",
  ]);
  assert.deepStrictEqual(expandHostlist("r[1,3]n[5-6].ib"), [
    "r1n5.ib",
    "r1n6.ib",
    "r3n5.ib",
    "r3n6.ib",
  ]);
});

Deno.test("expandHostlist: mixed top-level list", () => {
  assert.deepStrictEqual(expandHostlist("a[1-2],b3,gpu[10-11]x"), [
    "a1",
    "a2",
    "b3",
    "gpu10x",
    "gpu11x",
  ]);
});

Deno.test("expandHostlist: malformed input is a HostlistSyntaxError", () => {
  for (
    const bad of ["n[1-", "n1-2]", "n[a-b]", "n[5-2]", "n[]", "a,,b", "n[[1]]"]
  ) {
    assert.throws(
      () => expandHostlist(bad),
      (e: unknown) => e instanceof HostlistSyntaxError && e.hostlist === bad,
      bad,
    );
  }
});

Deno.test("expandHostlist: refuses absurd expansions", () => {
  assert.throws(() => expandHostlist("n[0-99999999]"), RangeError);
  assert.throws(() => expandHostlist("a[0-9999]b[0-9999]"), RangeError);
});
