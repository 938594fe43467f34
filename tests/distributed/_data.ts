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
