"""Baseline of the customer task: BG/NBD + Gamma-Gamma fitted on the training customers' calibration period."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lepton_retail.customers.btyd import BGNBD, GammaGamma

__all__ = ["BTYDBaseline"]


class BTYDBaseline:
    """Churn = P(no purchase in the holdout window) under BG/NBD; CLV = expected purchases x Gamma-Gamma spend.

    Fitted on the training customers' (x, t_x, T, m) only: it never sees a holdout outcome, as it would not
    in use (BTYD models are unsupervised in the future).
    """

    name = "bg_nbd"

    def __init__(self, penalty: float = 0.0) -> None:
        self.penalty = float(penalty)

    def fit(self, datamodule: Any) -> BTYDBaseline:
        """Maximum-likelihood BG/NBD and Gamma-Gamma parameters; the holdout length in weeks."""
        train = datamodule.summary_of(datamodule.train_index)
        self.transactions = BGNBD().fit(train["x"], train["t_x"], train["T"], self.penalty)
        self.spend = GammaGamma().fit(train["x"], train["m"], self.penalty)
        self.horizon_weeks = datamodule.holdout_days / 7.0
        return self

    def predict(self, summary: pd.DataFrame) -> np.ndarray:
        """(n, 2): probability of no purchase in the holdout window, expected spend in it."""
        x, t_x, T = summary["x"], summary["t_x"], summary["T"]
        churn = self.transactions.p_no_purchase(self.horizon_weeks, x, t_x, T)
        purchases = self.transactions.expected_purchases(self.horizon_weeks, x, t_x, T)
        return np.stack([churn, purchases * self.spend.expected_spend(x, summary["m"])], axis=1)

    def parameters(self) -> dict[str, float]:
        """Fitted parameters, for the report."""
        return {**self.transactions.to_dict(), **self.spend.to_dict()}
