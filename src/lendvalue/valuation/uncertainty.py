"""Scenarios for the CLV band: draws of the models' uncertain inputs, from their estimated
parameter uncertainty, each revalued in full by :func:`lendvalue.valuation.customer_value`.

- :func:`survival_scenarios` — relationship survival curves at parameter draws from the
  fitted retention model's asymptotic normal: a Weibull AFT model's scale, shape and covariate
  coefficients (its covariance on the optimiser's scale), or a Cox model's coefficients (its
  baseline hazard held at the estimate).
- :func:`pd_scenarios` — PD curves whose level moves with the uncertainty of the one-year PD:
  each customer's hazard multiplier is scaled by :math:`e^{\\sigma Z}` with one standard normal
  :math:`Z` per draw (shared by all customers: a calibration error moves the whole portfolio)
  and :math:`\\sigma` the relative standard error of the PD (e.g. from the grade's binomial
  standard error of the migration matrix, or the calibration's).
- :func:`scenarios` — draws of each kind zipped into :class:`Scenario` objects.

The band is the spread of the CLV over the draws; it carries parameter uncertainty, not the
randomness of a single customer's life (which averages out in an expectation).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
import numpy.typing as npt
import pandas as pd

from lendvalue.errors import DataContractError
from lendvalue.valuation.customer import Scenario
from lendvalue.valuation.customer_curves import Curves, GradePDCurves, ProportionalHazardCurves

Array = npt.NDArray[np.float64]


def survival_scenarios(
    model: object,
    customers: pd.DataFrame,
    *,
    tenure: str = "tenure_months",
    n_draws: int = 50,
    seed: int = 0,
) -> list[Curves]:
    """Survival curves of ``customers`` (covariates and tenure in months) at ``n_draws``
    parameter draws of a fitted :class:`~lendvalue.models.WeibullAFTModel` or
    :class:`~lendvalue.models.CoxPHModel`."""
    from lendvalue.models import CoxPHModel, WeibullAFTModel

    if tenure not in customers.columns:
        raise DataContractError(f"customers need their tenure in months as {tenure!r}")
    tau = customers[tenure].to_numpy(np.float64)
    if isinstance(model, WeibullAFTModel):
        out: list[Curves] = []
        for phi in model.parameter_draws(n_draws, seed):
            p = model._scales(customers, phi)
            shape = float(p["shape"])
            scale = np.broadcast_to(p["scale"], (len(customers),))
            out.append(ProportionalHazardCurves(
                np.exp(-shape * np.log(scale)), tau, _power_baseline(shape)
            ))  # fmt: skip
        return out
    if isinstance(model, CoxPHModel):
        z = customers[list(model.covariates)].to_numpy(np.float64)
        beta = np.array(list(model.params_.values()))
        draws = np.random.default_rng(seed).multivariate_normal(
            beta, model.covariance_.to_numpy(), size=n_draws
        )
        return [ProportionalHazardCurves(np.exp(z @ b), tau, model._baseline) for b in draws]
    raise DataContractError(f"no parameter draws for a {type(model).__name__}")


def _power_baseline(shape: float) -> Callable[[Array], Array]:
    def baseline(t: Array) -> Array:
        with np.errstate(divide="ignore"):
            return np.asarray(np.exp(shape * np.log(t)), dtype=np.float64)

    return baseline


def pd_scenarios(
    curves: GradePDCurves,
    relative_se: float | npt.ArrayLike,
    *,
    n_draws: int = 50,
    seed: int = 0,
) -> list[Curves]:
    """PD curves with each customer's hazard multiplier scaled by :math:`e^{\\sigma Z}`
    (module notes); ``relative_se`` is σ, one value or one per customer."""
    sigma = np.broadcast_to(np.asarray(relative_se, dtype=np.float64), curves.multiplier.shape)
    if np.any(sigma < 0) or not np.all(np.isfinite(sigma)):
        raise DataContractError("relative_se must be finite and ≥ 0")
    z = np.random.default_rng(seed).standard_normal(n_draws)
    return [replace(curves, multiplier=curves.multiplier * np.exp(sigma * zk)) for zk in z]


def scenarios(
    survival: Sequence[Curves] = (),
    pd_curves: Sequence[Curves] = (),
    fee_margin: Sequence[Array] = (),
) -> list[Scenario]:
    """Draw ``k`` of each kind together in scenario ``k`` (the kinds given must have the same
    number of draws; a kind not given keeps the base case)."""
    sizes = {len(x) for x in (survival, pd_curves, fee_margin) if len(x)}
    if len(sizes) > 1:
        raise DataContractError(f"scenario kinds need the same number of draws, got {sizes}")
    n = sizes.pop() if sizes else 0
    return [
        Scenario(
            survival=survival[k] if survival else None,
            pd_curves=pd_curves[k] if pd_curves else None,
            fee_margin=fee_margin[k] if fee_margin else None,
        )
        for k in range(n)
    ]
