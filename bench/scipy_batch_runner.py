"""Times scipy.optimize.curve_fit in a loop over a batch of fits (the same
data as the Deno side: raw float64 files written by bench/batch.ts), the way
a Python user fits many datasets. Reads a JSON spec on stdin, prints JSON:
seconds for the fits timed, how many converged, and their parameters."""
import json
import sys
import time
import warnings

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

spec = json.load(sys.stdin)
n = spec["nPoints"]
k = spec["nFits"]
p = spec["nParams"]
x = np.fromfile(spec["x"], dtype=np.float64).reshape(spec["nVars"], n)
y = np.fromfile(spec["y"], dtype=np.float64, count=k * n).reshape(k, n)
p0 = np.fromfile(spec["p0"], dtype=np.float64, count=k * p).reshape(k, p)
f = eval(spec["numpy"], {"np": np})
xdata = x[0] if spec["nVars"] == 1 else x
popt = np.full((k, p), np.nan)
ok = 0
warnings.simplefilter("ignore", OptimizeWarning)
t0 = time.perf_counter()
c0 = time.process_time()
for i in range(k):
    try:
        popt[i], _ = curve_fit(f, xdata, y[i], p0=p0[i])
        ok += 1
    except RuntimeError:
        pass
seconds = time.perf_counter() - t0
cpu_seconds = time.process_time() - c0
json.dump({"seconds": seconds, "cpuSeconds": cpu_seconds, "fits": k, "converged": ok,
           "popt": [[v if np.isfinite(v) else None for v in r] for r in popt.tolist()]},
          sys.stdout)
