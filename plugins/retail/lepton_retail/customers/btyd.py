"""BG/NBD (Fader, Hardie & Lee 2005) and Gamma-Gamma (Fader & Hardie 2013) by maximum likelihood, in numpy/scipy.

Inputs per customer, in weeks: ``x`` repeat purchases (purchase days after the first), ``t_x`` the time of
the last purchase since the first, ``T`` the time from the first purchase to the cut-off; for the spend
model ``m`` the mean value of the repeat purchases. The fits maximise the closed-form log-likelihoods over
log-parameters (L-BFGS-B within bounds that keep them finite; an optional L2 penalty on the log-parameters
shrinks them on small or degenerate data).

Written here rather than taken from ``lifetimes`` (0.11.3, last released 2020): that package needs
``autograd`` and ``dill`` (pickle), and its import fails on current setuptools (no ``pkg_resources``).
The fits below reproduce its CDNOW parameters (see docs/verticals/retail.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1

__all__ = ["BGNBD", "GammaGamma"]


def _fit(negative_ll: object, start: np.ndarray, penalty: float) -> np.ndarray:
    """Minimise ``negative_ll(params)`` over log-parameters; return the parameters."""

    def objective(log_params: np.ndarray) -> float:
        value = negative_ll(np.exp(log_params)) + penalty * float(np.sum(log_params**2))
        return value if np.isfinite(value) else 1e300

    result = minimize(objective, np.log(start), method="L-BFGS-B", bounds=[(-12.0, 12.0)] * len(start))
    return np.exp(result.x)


@dataclass
class BGNBD:
    """Beta-geometric / negative binomial purchase and dropout model: r, alpha (purchase rates), a, b (dropout)."""

    r: float = 1.0
    alpha: float = 1.0
    a: float = 1.0
    b: float = 1.0

    @staticmethod
    def log_likelihood(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """Per-customer log-likelihood of (x, t_x, T) under parameters (r, alpha, a, b)."""
        r, alpha, a, b = params
        a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        a2 = betaln(a, b + x) - betaln(a, b)
        a3 = -(r + x) * np.log(alpha + T)
        repeat = x > 0
        a4 = np.where(repeat, betaln(a + 1, np.maximum(b + x - 1, 1e-12)) - betaln(a, b), -np.inf)
        a5 = -(r + x) * np.log(alpha + t_x)
        return a1 + np.logaddexp(a2 + a3, np.where(repeat, a4 + a5, -np.inf))

    def fit(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, penalty: float = 0.0) -> BGNBD:
        """Maximum-likelihood parameters for the customers' (x, t_x, T)."""
        x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
        scale = max(float(np.mean(T)), 1e-6)

        def negative(params: np.ndarray) -> float:
            return -float(np.mean(self.log_likelihood(params, x, t_x, T)))

        self.r, self.alpha, self.a, self.b = (float(v) for v in _fit(negative, np.array([1.0, scale, 1.0, 1.0]), penalty))
        return self

    def p_alive(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """Probability that each customer has not dropped out by T."""
        x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
        log_ratio = np.log(self.a) - np.log(np.maximum(self.b + x - 1, 1e-12)) + (self.r + x) * (
            np.log(self.alpha + T) - np.log(self.alpha + t_x)
        )
        return np.where(x > 0, 1.0 / (1.0 + np.exp(np.minimum(log_ratio, 700))), 1.0)

    def p_no_purchase(self, horizon: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """Probability of no purchase in (T, T + horizon]: dropped out, or alive and silent for the whole window."""
        x, T = np.asarray(x, dtype=float), np.asarray(T, dtype=float)
        alive = self.p_alive(x, t_x, T)
        silent = np.exp((self.r + x) * (np.log(self.alpha + T) - np.log(self.alpha + T + horizon)))
        return 1.0 - alive + alive * silent

    def expected_purchases(self, horizon: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """Expected number of purchases in (T, T + horizon] given each customer's history (FHL 2005, eq. 10)."""
        x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        z = horizon / (alpha + T + horizon)
        tail = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + horizon))) * hyp2f1(r + x, b + x, a + b + x - 1, z)
        numerator = (a + b + x - 1) / (a - 1) * (1.0 - tail)
        return np.maximum(numerator * self.p_alive(x, t_x, T), 0.0)

    def to_dict(self) -> dict[str, float]:
        """The parameters, for the report."""
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}


@dataclass
class GammaGamma:
    """Spend per transaction: gamma with a customer-level gamma(q, v) rate; shape p."""

    p: float = 1.0
    q: float = 1.0
    v: float = 1.0

    @staticmethod
    def log_likelihood(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
        """Per-customer log-likelihood of the mean spend ``m`` of ``x`` transactions (x >= 1, m > 0)."""
        p, q, v = params
        return (
            gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(v)
            + (p * x - 1) * np.log(m) + p * x * np.log(x) - (p * x + q) * np.log(x * m + v)
        )

    def fit(self, x: np.ndarray, m: np.ndarray, penalty: float = 0.0) -> GammaGamma:
        """Maximum-likelihood parameters over customers with at least one repeat purchase and positive spend."""
        x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
        keep = (x > 0) & (m > 0)
        x, m = x[keep], m[keep]
        if len(x) < 2:
            return self
        mean = float(np.mean(m))

        def negative(params: np.ndarray) -> float:
            return -float(np.mean(self.log_likelihood(params, x, m)))

        self.p, self.q, self.v = (float(v) for v in _fit(negative, np.array([2.0, 3.0, mean * 2.0]), penalty))
        return self

    def expected_spend(self, x: np.ndarray, m: np.ndarray) -> np.ndarray:
        """Expected value of a future transaction: the posterior mean, the population mean for x = 0."""
        x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
        population = self.p * self.v / max(self.q - 1.0, 1e-6)
        posterior = self.p * (self.v + x * m) / np.maximum(self.p * x + self.q - 1.0, 1e-6)
        return np.where(x > 0, posterior, population)

    def to_dict(self) -> dict[str, float]:
        """The parameters, for the report."""
        return {"p": self.p, "q": self.q, "v": self.v}
