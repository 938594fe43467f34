"""Times scipy.optimize.curve_fit on the benchmark problems (same data as the
Deno side: x = linspace, y from the model plus seeded noise written by the
Deno benchmark as raw float64 files). Prints JSON."""
import json
import sys
import time

import numpy as np
from scipy.optimize import curve_fit

spec = json.load(sys.stdin)
out = []
for pr in spec:
    x = np.fromfile(pr["x"], dtype=np.float64)
    y = np.fromfile(pr["y"], dtype=np.float64)
    f = eval(pr["numpy"], {"np": np})
    best = None
    for _ in range(pr.get("repeats", 1)):
        t0 = time.perf_counter()
        popt, pcov, info, msg, ier = curve_fit(f, x, y, p0=pr["p0"], full_output=True)
        dt = time.perf_counter() - t0
        if best is None or dt < best["time"]:
            r = f(x, *popt) - y
            best = {"time": dt, "nfev": int(info["nfev"]), "popt": popt.tolist(),
                    "cost": 0.5 * float(r @ r)}
    out.append(best)
json.dump(out, sys.stdout)
