// Fits started from a built-in model's guess reach the minimum of fits
// started at the truth, on random datasets (2% noise): a few per model here
// (bench/models_guess.ts runs 100 per model and prints the rates).
import assert from "node:assert";
import {
  compositeCases,
  singleModelCases,
  type SweepCase,
  sweepOne,
} from "./_models_sweep.ts";

const PER_MODEL = 10;

async function failures(cases: SweepCase[]): Promise<string[]> {
  const out: string[] = [];
  for (const c of cases) {
    for (let k = 0; k < PER_MODEL; k++) {
      const o = await sweepOne(c, 11, k);
      if (!o.ok) {
        out.push(
          `${c.id} #${k} truth [${o.truth.join(", ")}]: cost from the guess ` +
            `${o.costGuess}, from the truth ${o.costTruth}`,
        );
      }
    }
  }
  return out;
}

Deno.test("models: every built-in model's guess leads to the truth's minimum", async () => {
  const cases = singleModelCases();
  assert.ok(cases.length >= 21);
  assert.deepStrictEqual(await failures(cases), []);
});

Deno.test("models: two- and three-peak composites' guesses lead to the truth's minimum", async () => {
  assert.deepStrictEqual(await failures(compositeCases()), []);
});
