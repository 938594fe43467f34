"""Runs scipy.optimize.curve_fit on problems given as JSON on stdin.

Used by tests/scipy_compare_test.ts to compare results side by side.
"""
import json
import sys

import numpy as np
from scipy.optimize import curve_fit

out = []
for pr in json.load(sys.stdin):
    f = eval(pr["numpy"], {"np": np})
    x = np.array(pr["x"], dtype=float)
    y = np.array(pr["y"], dtype=float)
    kw = dict(p0=pr["p0"], method=pr.get("method", "trf"), jac="3-point",
              ftol=pr["tol"], xtol=pr["tol"], gtol=pr["tol"], full_output=True)
    if pr.get("method", "trf") == "trf":
        kw["max_nfev"] = 10000
        kw["loss"] = pr.get("loss", "linear")
        kw["f_scale"] = pr.get("fScale", 1.0)
        if pr.get("xScale") is not None:
            kw["x_scale"] = pr["xScale"]
    else:
        del kw["jac"]
    if pr.get("bounds") is not None:
        lo, hi = pr["bounds"]
        kw["bounds"] = ([(-np.inf if v is None else v) for v in lo],
                        [(np.inf if v is None else v) for v in hi])
    if pr.get("sigma") is not None:
        kw["sigma"] = np.array(pr["sigma"], dtype=float)
        kw["absolute_sigma"] = pr.get("absoluteSigma", False)
    popt, pcov, info, msg, ier = curve_fit(f, x, y, **kw)
    r = f(x, *popt) - y
    if pr.get("sigma") is not None:
        s = np.array(pr["sigma"], dtype=float)
        if s.ndim == 1:
            r = r / s
        else:
            r = np.linalg.solve(np.linalg.cholesky(s), r)
    out.append({"popt": popt.tolist(), "pcov": np.where(np.isfinite(pcov), pcov, 1e308).tolist(),
                "fun": r.tolist(), "nfev": int(info["nfev"])})
json.dump(out, sys.stdout)
