"""Risk profiles and the convex allocation step (cvxpy + Clarabel): long-only, fully invested, capped, cost-aware."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from lepton_core.errors import ConfigError

__all__ = ["Optimiser", "RiskProfile", "risk_profiles", "shrunk_covariance"]


@dataclass(frozen=True)
class RiskProfile:
    """How much risk an investor takes: risk aversion (gamma of mean - gamma/2 variance) and a cap per asset."""

    name: str
    risk_aversion: float
    max_weight: float

    def to_state(self) -> dict[str, Any]:
        """Plain JSON."""
        return {"risk_aversion": self.risk_aversion, "max_weight": self.max_weight}


def risk_profiles(options: Mapping[str, Any]) -> dict[str, RiskProfile]:
    """``{name: {risk_aversion, max_weight}}`` -> RiskProfile per name; bad numbers are a ConfigError naming them."""
    profiles = {}
    for name, spec in (options or {}).items():
        spec = dict(spec or {})
        try:
            gamma, cap = float(spec["risk_aversion"]), float(spec["max_weight"])
        except (KeyError, TypeError, ValueError):
            raise ConfigError(
                f"task.risk_profiles.{name} needs numbers risk_aversion and max_weight (got {spec})",
                f"set task.risk_profiles.{name}.risk_aversion (> 0) and .max_weight (0 to 1]",
            ) from None
        if not (np.isfinite(gamma) and gamma > 0 and 0 < cap <= 1):
            raise ConfigError(
                f"task.risk_profiles.{name}: risk_aversion={gamma:g}, max_weight={cap:g} are out of range",
                "use risk_aversion > 0 and 0 < max_weight <= 1",
            )
        profiles[str(name)] = RiskProfile(str(name), gamma, cap)
    if not profiles:
        raise ConfigError("task.risk_profiles is empty", "define at least one profile (e.g. balanced)")
    return profiles


def shrunk_covariance(returns: np.ndarray) -> np.ndarray:
    """Ledoit-Wolf shrinkage covariance of a (periods, assets) return window."""
    from sklearn.covariance import ledoit_wolf

    covariance, _ = ledoit_wolf(np.asarray(returns, dtype=float))
    return covariance


class Optimiser:
    """max mu'w - gamma/2 w'Sw - c |w - w_prev|_1  s.t.  sum w = 1, 0 <= w <= cap (one compiled cvxpy problem).

    Units are per period (day); ``cost_per_period`` is the cost of one unit of turnover spread over the
    holding period, so that trading is worth it only when the forecast gain over the holding period pays it.
    """

    def __init__(self, n_assets: int, profile: RiskProfile, cost_bps: float, holding_periods: int) -> None:
        import cvxpy as cp

        if profile.max_weight * n_assets < 1 - 1e-9:
            raise ConfigError(
                f"risk profile '{profile.name}': max_weight {profile.max_weight:g} x {n_assets} assets < 1, "
                "a fully invested portfolio is impossible",
                f"raise task.risk_profiles.{profile.name}.max_weight to at least {1 / n_assets:.3f}",
            )
        if cost_bps < 0:
            raise ConfigError(f"task.cost_bps={cost_bps:g} is negative", "set task.cost_bps to 0 or more")
        self.profile, self.n_assets = profile, n_assets
        self.cost = cost_bps / 1e4 / max(holding_periods, 1)
        self.weights = cp.Variable(n_assets)
        self.mean = cp.Parameter(n_assets)
        self.factor = cp.Parameter((n_assets, n_assets))
        self.previous = cp.Parameter(n_assets)
        self.trade_cost = cp.Parameter(nonneg=True)
        w, trade = self.weights, cp.Variable(n_assets)
        objective = (
            self.mean @ w
            - profile.risk_aversion / 2 * cp.sum_squares(self.factor.T @ w)
            - self.trade_cost * cp.norm1(trade)  # a parameter times a parameter-free term: DPP, compiled once
        )
        constraints = [cp.sum(w) == 1, w >= 0, w <= profile.max_weight, trade == w - self.previous]
        self.problem = cp.Problem(cp.Maximize(objective), constraints)
        self.failures = 0

    def solve(self, mean: np.ndarray | None, covariance: np.ndarray, previous: np.ndarray | None = None) -> np.ndarray:
        """Optimal weights; without ``previous`` trading is free; an unsolved problem keeps ``previous`` (or 1/N)."""
        import cvxpy as cp

        n = self.n_assets
        fallback = np.full(n, 1.0 / n) if previous is None else np.asarray(previous, dtype=float)
        covariance = (np.asarray(covariance, dtype=float) + np.asarray(covariance, dtype=float).T) / 2
        try:
            factor = np.linalg.cholesky(covariance + 1e-10 * np.eye(n))
        except np.linalg.LinAlgError:
            self.failures += 1
            return fallback
        self.mean.value = np.zeros(n) if mean is None else np.asarray(mean, dtype=float)
        self.factor.value = factor
        self.previous.value = fallback
        self.trade_cost.value = 0.0 if previous is None else self.cost
        try:
            self.problem.solve(solver=cp.CLARABEL)
        except cp.error.SolverError:
            self.failures += 1
            return fallback
        if self.problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) or self.weights.value is None:
            self.failures += 1
            return fallback
        weights = np.clip(self.weights.value, 0.0, None)
        return weights / weights.sum()
