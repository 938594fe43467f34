# lmfit's side of tests/workflow_prediction_test.ts: each case is fitted
# with lmfit (tight tolerances) and its confidence band at new x taken from
# ModelResult.eval_uncertainty (central differences of step stderr/3, which
# are exact for a model linear in its parameters and within ~1e-8 relative
# here, the data being nearly noise-free). Reads `data` (a list of cases),
# emits one object per case.
import lmfit
from scipy.stats import t as student_t


def model_of(case):
    kind = case["kind"]
    if kind == "decay":
        def decay(x, a, b, c):
            return a * np.exp(-b * x) + c
        return lmfit.Model(decay)
    if kind == "peaks":
        # Two Gaussians of one width on a line with its slope held fixed.
        m = (lmfit.models.GaussianModel(prefix="g1_")
             + lmfit.models.GaussianModel(prefix="g2_")
             + lmfit.models.LinearModel())
        return m
    if kind == "two_vars":
        def surface(x0, x1, a, b, c):
            return a * x0 + b * np.exp(-c * x1)
        return lmfit.Model(surface, independent_vars=["x0", "x1"])
    raise ValueError(kind)


out = []
for case in data:
    m = model_of(case)
    params = m.make_params()
    for name, spec in case["params"].items():
        params[name].set(**spec)
    kws = {}
    new_kws = {}
    if case["kind"] == "two_vars":
        kws = {"x0": np.array(case["x"][0]), "x1": np.array(case["x"][1])}
        new_kws = {"x0": np.array(case["xNew"][0]), "x1": np.array(case["xNew"][1])}
    else:
        kws = {"x": np.array(case["x"])}
        new_kws = {"x": np.array(case["xNew"])}
    weights = None
    if case.get("sigma") is not None:
        weights = 1 / np.array(case["sigma"])
    r = m.fit(np.array(case["y"]), params, weights=weights,
              scale_covar=not case.get("absoluteSigma", False),
              fit_kws={"xtol": 1e-15, "ftol": 1e-15, "gtol": 1e-15}, **kws)
    level = case["level"]
    dely = r.eval_uncertainty(sigma=level, **new_kws)
    yNew = r.eval(**new_kws)
    out.append({
        "names": list(r.params.keys()),
        "values": [r.params[n].value for n in r.params],
        "stderr": [r.params[n].stderr if r.params[n].stderr is not None else 0.0
                   for n in r.params],
        "y": yNew,
        "dely": dely,
        "redchi": r.redchi,
        "t": student_t.ppf((level + 1) / 2, r.ndata - r.nvarys),
    })
emit(out)
