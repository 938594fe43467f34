import assert from "node:assert";
import { fastExpSource } from "../model/_fast_exp.ts";
import { pythonCommand } from "./_tools.ts";

const fastExp = new Function(`${fastExpSource()}\nreturn fastExp;`)() as (
  x: number,
) => number;

const bitsOf = (() => {
  const f = new Float64Array(1), u = new BigInt64Array(f.buffer);
  return (v: number) => {
    f[0] = v;
    return u[0];
  };
})();
const ulps = (a: number, b: number) => {
  const d = bitsOf(a) - bitsOf(b);
  return Number(d < 0n ? -d : d);
};

Deno.test("fastExp: within 1 ulp of Math.exp, and equal to it almost always", () => {
  let s = 12345;
  let worst = 0, differ = 0;
  const n = 200_000;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    // The whole normal range, and densely around 0 where models live.
    const x = i % 2 ? (s / 2 ** 32 - 0.5) * 1416 : (s / 2 ** 32 - 0.5) * 20;
    const d = ulps(fastExp(x), Math.exp(x));
    worst = Math.max(worst, d);
    if (d) differ++;
  }
  assert.ok(worst <= 1, `worst ${worst} ulp`);
  assert.ok(differ / n < 0.01, `${differ} of ${n} differ`);
});

Deno.test("fastExp: special values and range ends match Math.exp", () => {
  for (
    const x of [
      0,
      -0,
      1,
      -1,
      Math.LN2,
      Math.LN2 / 256,
      -Math.LN2 / 256,
      1e-300,
      -1e-300,
      707.9,
      708.9,
      709.5,
      710,
      -707.9,
      -708.5,
      -745.1,
      -746,
      Infinity,
      -Infinity,
    ]
  ) {
    const d = ulps(fastExp(x), Math.exp(x));
    assert.ok(d <= 1, `exp(${x}): ${fastExp(x)} vs ${Math.exp(x)}`);
  }
  assert.ok(Number.isNaN(fastExp(NaN)));
  // Every power-of-two scale of the table is reached and right.
  for (let k = -1021; k <= 1022; k++) {
    const x = k * Math.LN2 + 0.1;
    assert.ok(ulps(fastExp(x), Math.exp(x)) <= 1, `exp(${x})`);
  }
});

Deno.test("fastExp: agrees with correctly rounded exp from Python's decimal", async () => {
  const python = pythonCommand();
  const xs = Array.from({ length: 2000 }, (_, i) => -700 + i * 0.7003);
  let out;
  try {
    out = await new Deno.Command(python, {
      args: [
        "-c",
        "import sys,json\nfrom decimal import Decimal,getcontext\ngetcontext().prec=50\n" +
        "print(json.dumps([float(Decimal(v).exp()) for v in json.load(sys.stdin)]))",
      ],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
  } catch {
    console.warn("SKIPPED: python3 not found");
    return;
  }
  const w = out.stdin.getWriter();
  await w.write(new TextEncoder().encode(JSON.stringify(xs)));
  await w.close();
  const r = await out.output();
  assert.ok(r.success);
  const exact: number[] = JSON.parse(new TextDecoder().decode(r.stdout));
  let wrong = 0;
  xs.forEach((x, i) => {
    const d = ulps(fastExp(x), exact[i]);
    assert.ok(d <= 1, `exp(${x}) off by ${d} ulp`);
    if (d) wrong++;
  });
  // Correctly rounded in all but a small fraction of cases.
  assert.ok(wrong < 0.01 * xs.length, `${wrong} not correctly rounded`);
});
