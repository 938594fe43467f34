# Parameter names, hints and values of lmfit's models for
# tests/models_lmfit_test.ts (run through pythonJson: `data` is a list of
# {"lmfit": expression, "x": x or [x, y], "params": [{name: value}, ...]}).
from lmfit import Model
from lmfit.lineshapes import logistic
from lmfit.models import (ConstantModel, ExponentialModel, Gaussian2dModel,
                          GaussianModel, LinearModel, LognormalModel,
                          LorentzianModel, PolynomialModel, PowerLawModel,
                          PseudoVoigtModel, QuadraticModel, SineModel,
                          StepModel, VoigtModel)

out = []
for case in data:
    model = eval(case["lmfit"])
    # the function's parameters (make_params adds fwhm, height, ...)
    names = [n for n in model.make_params()
             if n[len(model.prefix):] in model._func_allargs]
    x = case["x"]
    ind = ({"x": np.array(x[0]), "y": np.array(x[1])}
           if len(model.independent_vars) == 2 else {"x": np.array(x)})
    hints = {}
    for name, h in model.param_hints.items():
        hints[name] = {k: v for k, v in h.items() if k in ("min", "max", "expr", "value")}
    values = []
    for p in case["params"]:
        params = model.make_params(**p)
        for name in p:
            params[name].set(expr="", value=p[name])
        values.append(np.broadcast_to(model.eval(params, **ind), len(ind["x"])))
    out.append({"names": names, "hints": hints, "values": values})
emit(out)
