"""Deterministic demo tables: credit applications (~18% defaults) and card transactions (~0.5% fraud).

Both carry a learnable, partly non-linear signal, missing values that mean something, categorical
columns, an id column and a date column (used for the out-of-time split).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["DEMOS", "DemoSpec", "card_transactions", "credit_applications"]


@dataclass(frozen=True)
class DemoSpec:
    """Column roles of a demo table."""

    target: str
    positive_label: int
    id_column: str
    time_column: str


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _intercept_for_rate(logit: np.ndarray, rate: float) -> float:
    """The intercept that gives a mean probability of ``rate`` (bisection; deterministic)."""
    low, high = -20.0, 20.0
    for _ in range(60):
        middle = (low + high) / 2
        if _sigmoid(logit + middle).mean() > rate:
            high = middle
        else:
            low = middle
    return (low + high) / 2


def _with_missing(values: np.ndarray, rng: np.random.Generator, rate: float) -> np.ndarray:
    out = values.astype(float).copy()
    out[rng.random(len(out)) < rate] = np.nan
    return out


def credit_applications(n_rows: int = 20000, seed: int = 0, default_rate: float = 0.18) -> pd.DataFrame:
    """Loan applications with a ``default`` (1/0) outcome."""
    rng = np.random.default_rng(seed)
    age = rng.integers(21, 76, n_rows)
    employment = rng.choice(
        ["salaried", "self_employed", "contract", "unemployed", "retired"], n_rows, p=[0.6, 0.14, 0.12, 0.05, 0.09]
    )
    employment = np.where((age >= 63) & (rng.random(n_rows) < 0.6), "retired", employment)
    income = rng.lognormal(np.log(42000), 0.55, n_rows)
    income *= np.select([employment == "unemployed", employment == "retired"], [0.35, 0.7], 1.0)
    months_employed = np.where(
        np.isin(employment, ["unemployed", "retired"]), 0, np.minimum(rng.gamma(2.0, 30.0, n_rows), (age - 18) * 12)
    ).round()
    home = rng.choice(["rent", "mortgage", "own", "other"], n_rows, p=[0.42, 0.38, 0.15, 0.05])
    purpose = rng.choice(
        ["debt_consolidation", "credit_card", "home_improvement", "car", "education", "medical", "small_business",
         "wedding", "other"],
        n_rows,
        p=[0.32, 0.18, 0.1, 0.1, 0.06, 0.05, 0.06, 0.03, 0.1],
    )
    loan_amount = np.round(rng.lognormal(np.log(11000), 0.6, n_rows), -2).clip(1000, 40000)
    term = rng.choice([36, 60], n_rows, p=[0.7, 0.3])
    history_years = np.maximum(0, (age - 18) * rng.beta(2, 2, n_rows)).round(1)
    debt_ratio = (rng.beta(2.2, 5.5, n_rows) + loan_amount / term * 12 / income * 0.5).clip(0, 1.5).round(3)
    utilization = rng.beta(1.6, 2.8, n_rows).round(3)
    open_accounts = rng.poisson(6, n_rows)
    delinquencies = rng.poisson(0.25 + 0.4 * (debt_ratio > 0.5), n_rows)
    inquiries = rng.poisson(0.9, n_rows)
    region = rng.choice(["north", "south", "east", "west", "central"], n_rows)
    income_reported = rng.random(n_rows) > 0.05

    logit = (
        0.55 * np.minimum(delinquencies, 4)
        + 2.4 * np.maximum(debt_ratio - 0.35, 0)
        + 2.2 * np.maximum(utilization - 0.75, 0) * 4
        - 0.45 * np.log(income / 42000)
        + 0.12 * inquiries
        - 0.06 * np.minimum(history_years, 12)
        + 0.0009 * (age - 42) ** 2
        + 0.3 * (term == 60)
        - 0.004 * np.minimum(months_employed, 120)
        + np.select(
            [employment == "unemployed", employment == "self_employed", employment == "contract"], [0.9, 0.3, 0.35], 0.0
        )
        + np.select(
            [purpose == "small_business", purpose == "medical", purpose == "debt_consolidation", purpose == "car",
             purpose == "home_improvement"],
            [0.65, 0.35, 0.2, -0.25, -0.2],
            0.0,
        )
        + np.select([home == "own", home == "mortgage"], [-0.25, -0.15], 0.0)
        + 0.45 * ~income_reported
        + 0.8 * (debt_ratio > 0.45) * (income < 30000)
    )
    logit = logit + _intercept_for_rate(logit, default_rate)
    default = (rng.random(n_rows) < _sigmoid(logit)).astype(int)

    dates = pd.Timestamp("2022-01-01") + pd.to_timedelta(np.sort(rng.integers(0, 730, n_rows)), unit="D")
    frame = pd.DataFrame(
        {
            "applicant_id": [f"A{i:07d}" for i in range(n_rows)],
            "application_date": dates.strftime("%Y-%m-%d"),
            "age": age,
            "annual_income": np.where(income_reported, income.round(-2), np.nan),
            "employment_type": np.where(rng.random(n_rows) < 0.02, None, employment),
            "months_employed": _with_missing(months_employed, rng, 0.04),
            "home_ownership": home,
            "loan_purpose": purpose,
            "loan_amount": loan_amount,
            "loan_term_months": term,
            "debt_to_income": _with_missing(debt_ratio, rng, 0.03),
            "credit_utilization": _with_missing(utilization, rng, 0.05),
            "open_accounts": open_accounts,
            "delinquencies_2y": delinquencies,
            "inquiries_6m": inquiries,
            "credit_history_years": history_years,
            "region": region,
            "default": default,
        }
    )
    return frame


def card_transactions(n_rows: int = 100000, seed: int = 0, fraud_rate: float = 0.005) -> pd.DataFrame:
    """Card transactions with an ``is_fraud`` (1/0) outcome."""
    rng = np.random.default_rng(seed)
    categories = ["grocery", "restaurants", "fuel", "online_retail", "electronics", "travel", "entertainment",
                  "gambling", "health", "utilities"]
    category = rng.choice(categories, n_rows, p=[0.24, 0.16, 0.1, 0.16, 0.05, 0.04, 0.08, 0.02, 0.07, 0.08])
    online_share = np.select(
        [np.isin(category, ["online_retail", "utilities"]), np.isin(category, ["electronics", "travel", "gambling"])],
        [0.9, 0.5],
        0.08,
    )
    online = rng.random(n_rows) < online_share
    channel = np.where(online, "online", rng.choice(["chip", "contactless", "swipe"], n_rows, p=[0.45, 0.45, 0.1]))
    hourly = np.r_[np.full(6, 0.2), np.full(6, 1.4), np.full(6, 1.8), np.full(6, 1.0)]
    hour = rng.choice(24, n_rows, p=hourly / hourly.sum())
    avg_amount = rng.lognormal(np.log(45), 0.6, n_rows)
    amount = (avg_amount * rng.lognormal(0, 0.7, n_rows)).round(2)
    distance = np.where(online, np.nan, rng.lognormal(np.log(8), 1.2, n_rows)).round(1)
    foreign = (rng.random(n_rows) < 0.03).astype(int)
    account_age = rng.integers(1, 3650, n_rows)
    count_24h = rng.poisson(2.0, n_rows)
    device_age_days = np.where(online, rng.exponential(200, n_rows), np.nan).round(1)

    logit = (
        2.0 * foreign
        + 1.7 * ((hour >= 0) & (hour < 6))
        + 1.5 * np.log(amount / avg_amount).clip(-2, 3)
        + np.select(
            [category == "electronics", category == "travel", category == "gambling", category == "online_retail",
             category == "grocery", category == "utilities"],
            [1.4, 1.0, 1.5, 0.6, -0.8, -1.2],
            0.0,
        )
        + np.select([channel == "online", channel == "swipe"], [0.8, 0.9], 0.0)
        + 0.35 * np.minimum(count_24h, 10)
        + 1.8 * (account_age < 30)
        + 1.6 * np.nan_to_num(distance > 300)
        + 2.4 * np.nan_to_num(device_age_days < 1)
    )
    logit = logit + _intercept_for_rate(logit, fraud_rate)
    fraud = (rng.random(n_rows) < _sigmoid(logit)).astype(int)

    days = pd.to_timedelta(np.sort(rng.integers(0, 60, n_rows)), unit="D")
    within_hour = pd.to_timedelta(rng.integers(0, 3600, n_rows), unit="s")
    timestamp = pd.Timestamp("2024-03-01") + days + pd.to_timedelta(hour, unit="h") + within_hour
    return pd.DataFrame(
        {
            "transaction_id": [f"T{i:08d}" for i in range(n_rows)],
            "timestamp": timestamp.strftime("%Y-%m-%dT%H:%M:%S"),
            "amount": amount,
            "merchant_category": category,
            "channel": channel,
            "hour": hour,
            "foreign_merchant": foreign,
            "distance_from_home_km": distance,
            "account_age_days": account_age,
            "transactions_24h": count_24h,
            "avg_amount_30d": avg_amount.round(2),
            "device_age_days": device_age_days,
            "is_fraud": fraud,
        }
    )


DEMOS: dict[str, tuple[DemoSpec, Callable[..., pd.DataFrame]]] = {
    "credit": (DemoSpec("default", 1, "applicant_id", "application_date"), credit_applications),
    "fraud": (DemoSpec("is_fraud", 1, "transaction_id", "timestamp"), card_transactions),
}
