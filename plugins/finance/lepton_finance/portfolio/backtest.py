"""Walk-forward backtest: rebalance every ``horizon`` periods, pay costs on turnover, let weights drift in between."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lepton_finance.portfolio.optimiser import Optimiser

__all__ = ["BacktestResult", "performance", "run_backtest", "wealth_path"]


@dataclass
class BacktestResult:
    """One contender's path: net period returns, the weights set at each rebalance, turnover and costs paid."""

    name: str
    returns: np.ndarray  # net of costs, one per held period
    period_index: np.ndarray  # index into the simple-return array of each held period
    rebalance_ends: np.ndarray  # the log-return index each decision saw last
    weights: np.ndarray  # (rebalances, assets) target weights
    turnover: np.ndarray  # one-way sum |w_target - w_drifted| per rebalance
    costs: np.ndarray  # fraction of wealth paid per rebalance


def run_backtest(
    contender: Any,
    log_returns: np.ndarray,
    simple_returns: np.ndarray,
    ends: np.ndarray,
    stop: int,
    optimiser: Optimiser,
    cost_bps: float,
) -> BacktestResult:
    """Decide at each of ``ends`` (seeing returns up to it), hold until the next decision or ``stop``.

    The first decision starts from cash (its turnover is the initial purchase, and it pays for it).
    """
    contender.prepare(log_returns, ends)
    rate = cost_bps / 1e4
    drifted: np.ndarray | None = None
    returns, index, weights, turnover, costs = [], [], [], [], []
    for k, end in enumerate(ends):
        target = contender.allocate(log_returns, int(end), drifted, optimiser)
        traded = float(np.abs(target - (0 if drifted is None else drifted)).sum())
        cost = rate * traded
        weights.append(target)
        turnover.append(traded)
        costs.append(cost)
        hold_until = int(ends[k + 1]) if k + 1 < len(ends) else stop
        current = target.copy()
        for t in range(int(end) + 1, hold_until + 1):
            gross = float(current @ simple_returns[t])
            returns.append(gross - (cost if t == end + 1 else 0.0))
            index.append(t)
            current = current * (1 + simple_returns[t]) / (1 + gross)
        drifted = current
    return BacktestResult(
        contender.name, np.asarray(returns), np.asarray(index), np.asarray(ends), np.asarray(weights),
        np.asarray(turnover), np.asarray(costs),
    )


def performance(result: BacktestResult, periods_per_year: int) -> dict[str, float]:
    """Annualised return and volatility, Sharpe (no risk-free rate), max drawdown, annual turnover and costs."""
    r = result.returns
    years = len(r) / periods_per_year
    wealth = np.cumprod(1 + r)
    sd = float(r.std(ddof=1)) if len(r) > 1 else 0.0
    drawdown = 1 - wealth / np.maximum.accumulate(wealth)
    return {
        "sharpe": float(r.mean() / sd * np.sqrt(periods_per_year)) if sd > 0 else 0.0,
        "annual_return": float(wealth[-1] ** (1 / years) - 1) if years > 0 else 0.0,
        "annual_volatility": sd * float(np.sqrt(periods_per_year)),
        "max_drawdown": float(drawdown.max()),
        "turnover": float(result.turnover.sum() / years) if years > 0 else 0.0,
        "annual_costs": float(result.costs.sum() / years) if years > 0 else 0.0,
        "final_wealth": float(wealth[-1]),
    }


def wealth_path(result: BacktestResult) -> np.ndarray:
    """Wealth over time, starting at 1."""
    return np.cumprod(1 + result.returns)
