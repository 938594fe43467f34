// Deterministic test data shared by the distributed scripts and tests: a
// decaying exponential with reproducible pseudo-noise (no Math.random, so
// every rank and the reference process see the same arrays).
export function makeData(n: number): {
  x: Float64Array;
  y: Float64Array;
  sigma: Float64Array;
} {
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  const sigma = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = (10 * i) / n;
    x[i] = t;
    const noise = 0.05 * Math.sin(12.9898 * i + 78.233 * Math.sin(i));
    y[i] = 2.5 * Math.exp(-1.3 * t) + 0.5 + noise;
    sigma[i] = 0.5 + 0.25 * Math.cos(0.37 * i) ** 2;
  }
  return { x, y, sigma };
}

/**
 * An ill-conditioned problem for {@linkcode ILL_MODEL}: a cubic on
 * [100, 101], where the column-scaled Jacobian has a condition number near
 * 1e8, so Gram sums (which square it) are refused and every pass is QR.
 */
export function makeIllData(n: number): {
  x: Float64Array;
  y: Float64Array;
  sigma: Float64Array;
} {
  const { sigma } = makeData(n);
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = 100 + i / (n - 1);
    x[i] = t;
    const noise = 0.005 * Math.sin(12.9898 * i + 78.233 * Math.sin(i));
    y[i] = 1 + 0.1 * t - 0.01 * t * t + 1e-4 * t ** 3 + noise;
  }
  return { x, y, sigma };
}

/** The model of {@linkcode makeIllData}, and a start near its solution. */
export const ILL_MODEL = {
  expression: "b0 + b1 * x + b2 * x^2 + b3 * x^3",
  p0: [1, 0.1, -0.01, 1e-4],
};
