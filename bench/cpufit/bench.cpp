// Cpufit (Gpufit's CPU twin) on the batch benchmark's Gaussians, for the
// `batch` section's peer row (bench/_cpufit.ts). Cpufit is not part of this
// repository: build this file against Gpufit's sources, for example
//   g++ -O3 -march=native -DNDEBUG -I <Gpufit>/ bench/cpufit/bench.cpp \
//     <Gpufit>/Cpufit/cpufit.cpp <Gpufit>/Cpufit/lm_fit.cpp \
//     <Gpufit>/Cpufit/lm_fit_cpp.cpp <Gpufit>/Cpufit/info.cpp \
//     <Gpufit>/Cpufit/interface.cpp -o cpufit_bench
// and point NLSQ_CPUFIT at the binary. REAL is float (Cpufit's default).
// Arguments: y.f64 p0.f64 nFits nPoints tolerance; x = i / (nPoints - 1),
// as in tests/_batch_data.ts. Prints one JSON line (best of 5 runs).
#include "Cpufit/cpufit.h"
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <vector>
#include <fstream>
int main(int argc, char** argv) {
  // args: y.f64 p0.f64 nFits nPoints tolerance
  std::size_t nf = atol(argv[3]), np = atol(argv[4]);
  REAL tol = atof(argv[5]);
  std::vector<double> yd(nf * np), pd(nf * 4);
  std::ifstream(argv[1], std::ios::binary).read((char*)yd.data(), yd.size() * 8);
  std::ifstream(argv[2], std::ios::binary).read((char*)pd.data(), pd.size() * 8);
  std::vector<REAL> y(yd.begin(), yd.end()), p0(pd.begin(), pd.end()), x(np);
  for (std::size_t i = 0; i < np; i++) x[i] = REAL(i) / REAL(np - 1);
  std::vector<REAL> out(nf * 4), chi(nf); std::vector<int> st(nf), it(nf);
  int fit[4] = {1, 1, 1, 1};
  double best = 1e30, bestCpu = 1e30;
  for (int r = 0; r < 5; r++) {
    auto t0 = std::chrono::steady_clock::now(); std::clock_t c0 = std::clock();
    int s = cpufit(nf, np, y.data(), nullptr, 0 /*GAUSS_1D*/, p0.data(), tol, 20, fit, 0 /*LSE*/,
                   np * sizeof(REAL), (char*)x.data(), out.data(), st.data(), chi.data(), it.data());
    double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s != 0) { printf("error %s\n", cpufit_get_last_error()); return 1; }
    double cpu = double(std::clock() - c0) / CLOCKS_PER_SEC;
    if (sec < best) best = sec;
    if (cpu < bestCpu) bestCpu = cpu;
  }
  std::size_t ok = 0; double its = 0;
  for (std::size_t i = 0; i < nf; i++) { ok += st[i] == 0; its += it[i]; }
  printf("{\"fitsPerCpuS\": %.0f, \"fitsPerS\": %.0f, \"converged\": %.4f, \"meanIterations\": %.2f, \"a0\": %.9g, \"m0\": %.9g}\n", nf / bestCpu, nf / best, double(ok) / nf, its / nf, (double)out[0], (double)out[1]);
}
