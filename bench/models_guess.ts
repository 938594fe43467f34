/**
 * How often a fit started from a built-in model's guess reaches the minimum
 * of a fit started at the truth: `n` random datasets (default 100) per
 * model and per multi-peak composite, 2% noise. Prints the rate per model.
 *
 * Run: deno run -A bench/models_guess.ts [n] [seed]
 *
 * @module
 */

import {
  compositeCases,
  singleModelCases,
  type SweepCase,
  sweepOne,
} from "../tests/_models_sweep.ts";

const n = Number(Deno.args[0] ?? 100);
const seed = Number(Deno.args[1] ?? 1);

async function rate(c: SweepCase): Promise<string> {
  let ok = 0;
  const failures: string[] = [];
  const t0 = performance.now();
  for (let k = 0; k < n; k++) {
    const o = await sweepOne(c, seed, k);
    if (o.ok) ok++;
    else {
      failures.push(
        `    #${k} truth [${o.truth.map((v) => v.toPrecision(4)).join(", ")}]` +
          ` cost from guess ${o.costGuess.toPrecision(6)}, from truth ${
            o.costTruth.toPrecision(6)
          }`,
      );
    }
  }
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  return `${c.id.padEnd(36)} ${ok}/${n} (${
    (100 * ok / n).toFixed(0)
  }%) ${s} s` +
    (failures.length ? `\n${failures.join("\n")}` : "");
}

console.log(
  `models: fits from the guess vs from the truth, ${n} datasets each, seed ${seed}`,
);
for (const c of singleModelCases()) console.log(await rate(c));
for (const c of compositeCases()) console.log(await rate(c));
