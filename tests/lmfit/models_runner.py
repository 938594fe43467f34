# Fits with lmfit for tests/models_lmfit_test.ts (run through pythonJson:
# `data` is the list of cases, `emit` prints the answer).
#
# Each case: "lmfit", a Python expression building the lmfit model (names
# from lmfit.models and lmfit.lineshapes are in scope); "x" (one column, or
# [x, y] for 2-D models); "y"; "start", our guess by name; "own", whether to
# start from lmfit's own guess too; "free", parameters whose expr hint is
# cleared so they vary; "exprs", parameters tied by an expression. Answers: lmfit's fit from its own guess (when
# asked) and from ours, each with values, standard errors, chi-square and
# the constrained (derived) parameters.
import lmfit
from lmfit import Model
from lmfit.lineshapes import logistic
from lmfit.models import (ConstantModel, ExponentialModel, ExpressionModel,
                          Gaussian2dModel, GaussianModel, LinearModel,
                          LognormalModel, LorentzianModel, PolynomialModel,
                          PowerLawModel, PseudoVoigtModel, QuadraticModel,
                          SineModel, StepModel, VoigtModel)

KWS = {"xtol": 1e-13, "ftol": 1e-13, "gtol": 1e-13}


def independent(case, model):
    x = case["x"]
    if len(model.independent_vars) == 2:
        return {model.independent_vars[0]: np.array(x[0]),
                model.independent_vars[1]: np.array(x[1])}
    return {model.independent_vars[0]: np.array(x)}


def run(model, params, case):
    for name in case.get("free", []):
        params[name].set(expr="", vary=True)
    for name, expr in case.get("exprs", {}).items():
        params[name].set(expr=expr)
    y = np.array(case["y"])
    r = model.fit(y, params, max_nfev=20000, fit_kws=KWS, **independent(case, model))
    out = {"values": {}, "stderr": {}, "derived": {}, "chisqr": r.chisqr,
           "success": bool(r.success)}
    for name, p in r.params.items():
        err = p.stderr if p.stderr is not None else float("nan")
        if p.expr and name not in case.get("free", []):
            out["derived"][name] = [p.value, err]
        elif p.vary:
            out["values"][name] = p.value
            out["stderr"][name] = err
    return out


answers = []
for case in data:
    model = eval(case["lmfit"])
    res = {}
    if case["own"]:
        y = np.array(case["y"])
        try:
            params = model.guess(y, **independent(case, model))
            res["own"] = run(model, params, case)
        except Exception as e:  # lmfit's guess can fail on noisy data
            res["own"] = {"error": type(e).__name__, "success": False}
    params = model.make_params(**case["start"])
    res["ours"] = run(model, params, case)
    answers.append(res)
emit(answers)
