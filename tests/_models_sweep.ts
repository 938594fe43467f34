/**
 * Random datasets for every built-in model and for multi-peak composites,
 * and the check that a fit started from the model's guess reaches the
 * minimum that a fit started at the truth reaches (used by
 * tests/models_guess_sweep_test.ts with a few datasets per model and by
 * bench/models_guess.ts with 100).
 *
 * @module
 */

import { type BuiltinModel, fit, models } from "../mod.ts";

/** A uniform random number generator in [0, 1) (mulberry32). */
export type Rand = () => number;

/** mulberry32 seeded with `seed`. */
export function mulberry32(seed: number): Rand {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const uni = (r: Rand, a: number, b: number) => a + (b - a) * r();
const logUni = (r: Rand, a: number, b: number) => 10 ** uni(r, a, b);
const sign = (r: Rand) => (r() < 0.5 ? -1 : 1);
const linspace = (a: number, b: number, n = 201) =>
  Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));

/** One kind of random dataset. */
export interface SweepCase {
  readonly id: string;
  readonly model: BuiltinModel;
  /** x (one column, or the columns of a 2-D model). */
  readonly x: number[] | number[][];
  /** Random true parameters in model order. */
  readonly truth: (r: Rand) => number[];
}

const X10 = linspace(0, 10);

/** Centres at least `gap` apart in [lo, hi], ascending. */
function separated(r: Rand, k: number, lo: number, hi: number, gap: number) {
  for (;;) {
    const c = Array.from({ length: k }, () => uni(r, lo, hi)).sort((a, b) =>
      a - b
    );
    if (c.every((v, i) => i === 0 || v - c[i - 1] >= gap)) return c;
  }
}

const peak = (r: Rand) => [
  sign(r) * logUni(r, -1, 3),
  uni(r, 2, 8),
  logUni(r, -1, Math.log10(1.5)),
];

function grid2d(): number[][] {
  const X: number[] = [], Y: number[] = [];
  for (let i = 0; i < 31; i++) {
    for (let j = 0; j < 31; j++) {
      X.push(i / 3);
      Y.push(j / 3);
    }
  }
  return [X, Y];
}

/** Every built-in model, with the ranges its parameters are drawn from. */
export function singleModelCases(): SweepCase[] {
  const steps = (["linear", "atan", "erf", "logistic"] as const).map((
    form,
  ) => ({
    id: `step(${form})`,
    model: models.step({ form }),
    x: X10,
    truth: (r: Rand) => [
      sign(r) * logUni(r, -1, 2),
      uni(r, 3, 7),
      form === "linear" ? logUni(r, -0.5, 0.7) : logUni(r, -1, 0.3),
    ],
  }));
  return [
    {
      id: "constant",
      model: models.constant(),
      x: X10,
      truth: (r) => [sign(r) * logUni(r, -2, 2)],
    },
    {
      id: "linear",
      model: models.linear(),
      x: X10,
      truth: (r) => [sign(r) * logUni(r, -2, 2), sign(r) * logUni(r, -2, 2)],
    },
    {
      id: "quadratic",
      model: models.quadratic(),
      x: X10,
      truth: (r) => [0, 0, 0].map(() => sign(r) * logUni(r, -2, 2)),
    },
    {
      id: "polynomial(3)",
      model: models.polynomial({ degree: 3 }),
      x: X10,
      truth: (r) => [0, 0, 0, 0].map(() => sign(r) * logUni(r, -2, 1)),
    },
    {
      id: "exponential",
      model: models.exponential(),
      x: X10,
      truth: (
        r,
      ) => [sign(r) * logUni(r, -2, 2), sign(r) * logUni(r, -0.3, 1.7)],
    },
    {
      id: "powerLaw",
      model: models.powerLaw(),
      x: linspace(-1, 2).map((t) => 10 ** t),
      truth: (r) => [sign(r) * logUni(r, -2, 2), uni(r, -3, 3)],
    },
    { id: "gaussian", model: models.gaussian(), x: X10, truth: peak },
    { id: "lorentzian", model: models.lorentzian(), x: X10, truth: peak },
    {
      id: "voigt",
      model: models.voigt(),
      x: X10,
      truth: (r) => {
        const p = peak(r);
        return [...p, p[2] * logUni(r, -1.5, 0.5)];
      },
    },
    {
      id: "pseudoVoigt",
      model: models.pseudoVoigt(),
      x: X10,
      truth: (r) => [...peak(r), uni(r, 0.05, 0.95)],
    },
    ...steps,
    {
      id: "sine",
      model: models.sine(),
      x: X10,
      truth: (r) => [
        logUni(r, -1, 2),
        (2 * Math.PI * logUni(r, Math.log10(0.75), Math.log10(15))) / 10,
        uni(r, -Math.PI, Math.PI),
      ],
    },
    {
      id: "lognormal",
      model: models.lognormal(),
      x: linspace(0.05, 20),
      truth: (r) => [logUni(r, -1, 2), uni(r, 0, 1.5), uni(r, 0.15, 0.6)],
    },
    {
      id: "gaussian2d",
      model: models.gaussian2d(),
      x: grid2d(),
      truth: (r) => [
        sign(r) * logUni(r, 0, 2),
        uni(r, 3, 7),
        uni(r, 3, 7),
        logUni(r, -0.5, 0.2),
        logUni(r, -0.5, 0.2),
      ],
    },
    {
      id: "logistic",
      model: models.logistic(),
      x: X10,
      truth: (
        r,
      ) => [sign(r) * logUni(r, -1, 2), uni(r, 3, 7), logUni(r, -1, 0.3)],
    },
    {
      id: "hill",
      model: models.hill(),
      x: linspace(-3, 3).map((t) => 10 ** t),
      truth: (r) => {
        const bottom = uni(r, -5, 5);
        return [
          bottom,
          bottom + sign(r) * logUni(r, 0, 1),
          logUni(r, -1, 1),
          logUni(r, -0.3, 0.5),
        ];
      },
    },
    {
      id: "michaelisMenten",
      model: models.michaelisMenten(),
      x: linspace(0.05, 50),
      truth: (r) => [logUni(r, -1, 2), logUni(r, -1, 1)],
    },
    {
      id: "exponentialDecay",
      model: models.exponentialDecay(),
      x: X10,
      truth: (r) => [
        sign(r) * logUni(r, -1, 2),
        sign(r) * logUni(r, -1.3, 0),
        sign(r) * logUni(r, -1, 2),
      ],
    },
  ];
}

const fwhmVoigt = models.voigt();

/** Peaks of `kinds` ("g" Gaussian, "v" Voigt) at separated centres. */
function peaksCase(
  kinds: string,
  baseline: "none" | "constant" | "linear",
): SweepCase {
  let m: BuiltinModel | null = null;
  [...kinds].forEach((k, i) => {
    const p = (k === "g" ? models.gaussian : models.voigt)({
      prefix: `${k}${i + 1}_`,
    });
    m = m === null ? p : m.add(p);
  });
  let model = m!;
  if (baseline === "constant") model = model.add(models.constant());
  if (baseline === "linear") model = model.add(models.linear());
  const id = [...kinds].map((k) => (k === "g" ? "gaussian" : "voigt")).join(
    " + ",
  ) + (baseline === "none" ? "" : ` + ${baseline}`);
  return {
    id,
    model,
    x: linspace(0, 10, 401),
    truth: (r) => {
      const k = kinds.length;
      // Separated: centres 1.5 times the largest FWHM apart (widths drawn
      // again until that fits in [1, 9]).
      let sigmas: number[], gammas: number[], widest: number;
      do {
        sigmas = Array.from({ length: k }, () => logUni(r, -1, -0.3));
        gammas = sigmas.map((s) => s * logUni(r, -1, 0.3));
        widest = Math.max(
          ...sigmas.map((s, i) =>
            kinds[i] === "g"
              ? 2.3548200450309493 * s
              : fwhmVoigt.derived([1, 0, s, gammas[i]]).fwhm.value
          ),
        );
      } while (1.5 * widest * (k - 1) > 6);
      const centres = separated(r, k, 1, 9, 1.5 * widest);
      const out: number[] = [];
      // Heights within a factor 10 of each other (the smallest 5 times the
      // noise), as areas.
      [...kinds].forEach((kind, i) => {
        const height = logUni(r, 0, 1), sigma = sigmas[i];
        if (kind === "g") {
          out.push(height * sigma * Math.sqrt(2 * Math.PI), centres[i], sigma);
        } else {
          const gamma = gammas[i];
          const unit =
            models.voigt().derived([1, 0, sigma, gamma]).height.value;
          out.push(height / unit, centres[i], sigma, gamma);
        }
      });
      if (baseline === "constant") out.push(uni(r, -1, 1));
      if (baseline === "linear") out.push(uni(r, -0.2, 0.2), uni(r, -1, 1));
      return out;
    },
  };
}

/** Two- and three-peak composites of Gaussians and Voigts. */
export function compositeCases(): SweepCase[] {
  return [
    peaksCase("gg", "none"),
    peaksCase("vv", "linear"),
    peaksCase("ggg", "linear"),
    peaksCase("gvg", "constant"),
  ];
}

/** The outcome of one dataset. */
export interface SweepOutcome {
  /** The fit from the guess reached the minimum of the fit from the truth. */
  readonly ok: boolean;
  readonly costGuess: number;
  readonly costTruth: number;
  readonly truth: number[];
}

/** Adds 2% (of the largest |y|) Gaussian noise. */
function noisy(clean: Float64Array, r: Rand): number[] {
  let big = 0;
  for (const v of clean) big = Math.max(big, Math.abs(v));
  return Array.from(clean, (v) => {
    const z = Math.sqrt(-2 * Math.log(r() + 1e-300)) *
      Math.cos(2 * Math.PI * r());
    return v + 0.02 * big * z;
  });
}

/**
 * Dataset `k` of `c` (seeded by `seed` and `k`): fits from the guess and
 * from the truth, and whether the first reached the second's minimum
 * (cost within 1e-6 relative, or lower).
 */
export async function sweepOne(
  c: SweepCase,
  seed: number,
  k: number,
): Promise<SweepOutcome> {
  const r = mulberry32(seed * 7919 + k * 104729 + c.id.length);
  const truth = c.truth(r);
  const cols = (Array.isArray(c.x[0]) ? c.x : [c.x]) as number[][];
  const y = noisy(
    c.model.evaluate(cols.map((v) => Float64Array.from(v)), truth),
    r,
  );
  const bounds = c.model.defaultBounds;
  const fromTruth = await fit(c.model, c.x, y, { p0: truth, bounds });
  let costGuess = Infinity;
  try {
    const g = c.model.guess(c.x, y);
    const fromGuess = await fit(c.model, c.x, y, {
      p0: c.model.params.map((n) => g[n]),
      bounds,
    });
    costGuess = fromGuess.cost;
  } catch {
    // a guess or fit that throws is a failure
  }
  const costTruth = fromTruth.cost;
  return {
    ok: costGuess <= costTruth * (1 + 1e-6) + 1e-300,
    costGuess,
    costTruth,
    truth,
  };
}
