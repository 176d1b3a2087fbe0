"""Periodic-review order-up-to (base-stock) replenishment: order-up-to levels from forecasts, and a day-by-day simulation.

Every ``R`` days (the review period) an order raises the inventory position (on hand + on order - backorders)
to the order-up-to level ``S``; it arrives ``L`` days later (the SKU's lead time). It must cover the demand of
the ``L + R`` days until the next order arrives, so ``S`` is the target service level's quantile of that
lead-time demand, taken as normal with mean ``mu`` and standard deviation ``sigma``: ``S = mu + z * sigma``.

- The network (the core's global quantile forecaster): ``mu`` = the sum over the ``L + R`` days of each
  day's mean, estimated by the average of its quantiles (demand is skewed: the median of a part drawn on
  a few days only is often 0, far below its mean); each day's spread ``s_h`` comes from its outer quantiles (``(q_hi - q_lo) / (z_hi - z_lo)``),
  and ``sigma = sqrt(rho * (sum s_h)^2 + (1 - rho) * sum s_h^2)``: daily errors are neither independent
  (``rho = 0``) nor one and the same (``rho = 1``). ``rho`` is fitted on the validation windows (never the
  simulated days) by the pinball loss of the lead-time demand at the target service level.
- The classical policy (``moving_average``), and any point forecaster fed to the same policy (``theta``):
  ``mu`` = the sum of the point forecast over ``L + R`` days, ``sigma = sigma_d * sqrt(L + R)`` with
  ``sigma_d`` the standard deviation of the last ``safety_window`` days of demand (the textbook safety stock).

The simulation (:func:`simulate`) starts every policy from the same stock, receives orders, serves demand
(backorders or lost sales) and charges holding cost on the stock left at the end of each day, stock-out
cost per unit short and order cost per order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, Literal

import numpy as np

__all__ = [
    "MovingAverageForecast",
    "SimulationResult",
    "fit_correlation",
    "network_lead_time_demand",
    "point_lead_time_demand",
    "simulate",
    "summarise",
    "z_value",
]

StockoutRule = Literal["backorder", "lost_sales"]


def z_value(level: float) -> float:
    """The standard normal quantile at ``level``."""
    return NormalDist().inv_cdf(float(level))


class MovingAverageForecast:
    """Flat forecast: the mean demand of the last ``window`` days (the classical policy's forecast)."""

    name = "moving_average"

    def __init__(self, window: int = 28) -> None:
        self.window = int(window)
        self.horizon = 1

    def fit(self, datamodule: Any) -> MovingAverageForecast:
        """Take the horizon from the data."""
        self.horizon = int(datamodule.horizon)
        return self

    def predict(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """Point forecasts, shape (series, horizon)."""
        return np.stack([np.full(self.horizon, float(np.mean(h[-self.window :])) if len(h) else 0.0) for h in histories])


def _covered(horizon: int, cover: np.ndarray) -> np.ndarray:
    """Mask (rows, horizon) of the first ``cover[i]`` days of each row."""
    return np.arange(horizon)[None, :] < np.asarray(cover)[:, None]


def network_lead_time_demand(
    quantiles: np.ndarray, levels: Sequence[float], cover: np.ndarray, rho: float
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of the demand over the first ``cover`` days of each row of (rows, horizon, Q) quantiles."""
    levels = list(levels)
    daily_mean = quantiles.mean(-1)
    spread = (quantiles[..., -1] - quantiles[..., 0]) / (z_value(levels[-1]) - z_value(levels[0]))
    mask = _covered(quantiles.shape[1], cover)
    total, squares = (spread * mask).sum(1), (spread**2 * mask).sum(1)
    return (daily_mean * mask).sum(1), np.sqrt(rho * total**2 + (1 - rho) * squares)


def point_lead_time_demand(
    point: np.ndarray, histories: Sequence[np.ndarray], cover: np.ndarray, safety_window: int
) -> tuple[np.ndarray, np.ndarray]:
    """Mean (the point forecast summed over ``cover`` days) and textbook sigma ``sigma_d * sqrt(cover)`` of each row."""
    mean = (point * _covered(point.shape[1], cover)).sum(1)
    daily = np.array([float(np.std(h[-safety_window:])) if len(h) > 1 else 0.0 for h in histories])
    return mean, daily * np.sqrt(np.asarray(cover, dtype=float))


def fit_correlation(
    quantiles: np.ndarray, levels: Sequence[float], cover: np.ndarray, actual: np.ndarray, scale: np.ndarray, service_level: float
) -> float:
    """The ``rho`` in [0, 1] (step 0.05) whose order-up-to levels have the lowest pinball loss at ``service_level``
    against the actual lead-time demand ``actual``, each row scaled by ``scale`` (its SKU's mean demand)."""
    z = z_value(service_level)
    best, best_loss = 0.0, float("inf")
    for rho in np.linspace(0.0, 1.0, 21):
        mean, sigma = network_lead_time_demand(quantiles, levels, cover, float(rho))
        diff = (actual - (mean + z * sigma)) / scale
        loss = float(np.mean(np.maximum(service_level * diff, (service_level - 1) * diff)))
        if loss < best_loss - 1e-12:
            best, best_loss = float(rho), loss
    return best


@dataclass(frozen=True)
class SimulationResult:
    """Day-by-day trajectory of one SKU under one policy, and its totals."""

    on_hand: np.ndarray  # end of day (negative: backorders)
    orders: np.ndarray  # quantity ordered that day
    short: np.ndarray  # demand not served from stock that day
    demand: np.ndarray
    holding_cost: float
    stockout_cost: float
    order_cost: float
    cycles: int  # replenishment cycles fully inside the simulation
    cycles_without_stockout: int


def simulate(
    demand: np.ndarray,
    reviews: np.ndarray,
    order_up_to: np.ndarray,
    lead_time: int,
    review_period: int,
    start_on_hand: float,
    costs: dict[str, float],
    stockout: StockoutRule = "backorder",
) -> SimulationResult:
    """Run one SKU day by day: ``reviews`` are day offsets where the position is raised to ``order_up_to``."""
    days = len(demand)
    arrivals = np.zeros(days + lead_time + 1)
    on_hand, on_order = float(start_on_hand), 0.0
    trace, orders, short = np.zeros(days), np.zeros(days), np.zeros(days)
    level_at = dict(zip(reviews.tolist(), np.asarray(order_up_to, dtype=float).tolist()))
    for day in range(days):
        on_hand += arrivals[day]
        on_order -= arrivals[day]
        if day in level_at:
            quantity = max(0.0, level_at[day] - (on_hand + on_order))
            if quantity > 0:
                orders[day] = quantity
                if lead_time == 0:
                    on_hand += quantity
                else:
                    arrivals[day + lead_time] += quantity
                    on_order += quantity
        available = max(on_hand, 0.0)
        short[day] = max(0.0, demand[day] - available)
        on_hand = available - min(demand[day], available) if stockout == "lost_sales" else on_hand - demand[day]
        trace[day] = on_hand
    cycles = [(r + lead_time, r + lead_time + review_period) for r in reviews if r + lead_time + review_period <= days]
    return SimulationResult(
        on_hand=trace,
        orders=orders,
        short=short,
        demand=np.asarray(demand, dtype=float),
        holding_cost=float(costs["holding_cost"] * np.maximum(trace, 0).sum()),
        stockout_cost=float(costs["stockout_cost"] * short.sum()),
        order_cost=float(costs["order_cost"] * (orders > 0).sum()),
        cycles=len(cycles),
        cycles_without_stockout=sum(int(not short[a:b].any()) for a, b in cycles),
    )


def summarise(results: Sequence[SimulationResult]) -> dict[str, float]:
    """Inventory metrics over all SKUs of one policy."""
    demand = sum(float(r.demand.sum()) for r in results)
    short = sum(float(r.short.sum()) for r in results)
    holding = sum(r.holding_cost for r in results)
    stockout = sum(r.stockout_cost for r in results)
    ordering = sum(r.order_cost for r in results)
    cycles = sum(r.cycles for r in results)
    return {
        "total_cost": holding + stockout + ordering,
        "holding_cost": holding,
        "stockout_cost": stockout,
        "order_cost": ordering,
        "fill_rate": 1.0 - short / demand if demand > 0 else float("nan"),
        "cycle_service_level": sum(r.cycles_without_stockout for r in results) / cycles if cycles else float("nan"),
        "stockout_days": float(sum(int((r.short > 0).sum()) for r in results)),
        "stockout_units": short,
        "average_inventory": float(np.mean(np.concatenate([np.maximum(r.on_hand, 0) for r in results]))),
    }
