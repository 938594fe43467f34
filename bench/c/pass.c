/*
 * The C reference of one pass of the engine benchmark's models: for every
 * point the residual, the exact Jacobian row and the upper triangle of the
 * Gram matrix of [J f] (what our kernels accumulate), in double precision,
 * over all cores with OpenMP. Built by bench/pass.ts with
 * `cc -O3 -march=native -fopenmp` (no -ffast-math, so exp is glibc's).
 *
 * usage: pass exp3|gauss6 n reps  ->  prints {"bestMs": ..., "check": ...}
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  int gauss = strcmp(argv[1], "gauss6") == 0;
  long n = atol(argv[2]);
  int reps = atoi(argv[3]);
  double *x = malloc(n * sizeof(double)), *y = malloc(n * sizeof(double));
  double lo = gauss ? -4 : 0, hi = gauss ? 4 : 5;
  for (long i = 0; i < n; i++) {
    x[i] = lo + (hi - lo) * (double)i / (double)(n - 1);
    y[i] = gauss ? exp(-pow((x[i] + 1) / 0.8, 2)) +
                       0.6 * exp(-pow((x[i] - 1.5) / 0.5, 2))
                 : 2.5 * exp(-1.3 * x[i]) + 0.5;
  }
  double best = 1e30, check = 0;
  for (int r = 0; r < reps; r++) {
    double t0 = now();
    if (!gauss) {
      const double a = 2.5, b = 1.3, c = 0.5;
      double g[10] = {0};
#pragma omp parallel for reduction(+ : g[:10])
      for (long i = 0; i < n; i++) {
        double e = exp(-b * x[i]);
        double j0 = e, j1 = -a * x[i] * e, j2 = 1, f = a * e + c - y[i];
        g[0] += j0 * j0; g[1] += j0 * j1; g[2] += j0 * j2; g[3] += j0 * f;
        g[4] += j1 * j1; g[5] += j1 * j2; g[6] += j1 * f;
        g[7] += j2 * j2; g[8] += j2 * f; g[9] += f * f;
      }
      check = g[0];
    } else {
      const double a1 = 1, m1 = -1, s1 = 0.8, a2 = 0.6, m2 = 1.5, s2 = 0.5;
      double g[28] = {0};
#pragma omp parallel for reduction(+ : g[:28])
      for (long i = 0; i < n; i++) {
        double u1 = (x[i] - m1) / s1, u2 = (x[i] - m2) / s2;
        double e1 = exp(-u1 * u1), e2 = exp(-u2 * u2);
        double v[7];
        v[0] = e1; v[1] = a1 * e1 * 2 * u1 / s1; v[2] = a1 * e1 * 2 * u1 * u1 / s1;
        v[3] = e2; v[4] = a2 * e2 * 2 * u2 / s2; v[5] = a2 * e2 * 2 * u2 * u2 / s2;
        v[6] = a1 * e1 + a2 * e2 - y[i];
        int k = 0;
        for (int p = 0; p < 7; p++)
          for (int q = p; q < 7; q++) g[k++] += v[p] * v[q];
      }
      check = g[0];
    }
    double t = now() - t0;
    if (t < best) best = t;
  }
  printf("{\"bestMs\": %.6f, \"check\": %.17g}\n", best * 1e3, check);
  return 0;
}
