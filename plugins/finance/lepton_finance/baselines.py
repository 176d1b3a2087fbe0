"""Classical baselines on the network's own preprocessed features: logistic regression, gradient boosting."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lepton_core.tabular.design import design_matrix

__all__ = ["GradientBoostingBaseline", "LogisticBaseline"]

Inputs = tuple[torch.Tensor, torch.Tensor]


class LogisticBaseline:
    """L2 logistic regression on scaled numerics, missing flags and one-hot categoricals."""

    name = "logistic"

    def __init__(self, C: float = 1.0, max_iter: int = 2000) -> None:
        self.C = C
        self.max_iter = max_iter
        self.cardinalities: list[int] = []

    def fit(self, datamodule: Any) -> LogisticBaseline:
        """Fit on the training split."""
        from sklearn.linear_model import LogisticRegression

        x_num, x_cat, y = datamodule.tensors["train"]
        self.cardinalities = datamodule.preprocessor.cardinalities
        self.model = LogisticRegression(C=self.C, max_iter=self.max_iter)
        self.model.fit(design_matrix(x_num, x_cat, self.cardinalities), y.numpy().astype(int))
        return self

    def predict(self, inputs: Inputs) -> np.ndarray:
        """Positive-class probabilities for (x_num, x_cat)."""
        return self.model.predict_proba(design_matrix(*inputs, self.cardinalities))[:, 1]


class GradientBoostingBaseline:
    """scikit-learn's HistGradientBoosting with native categorical splits and early stopping on 10% of train."""

    name = "gradient_boosting"

    def __init__(self, max_iter: int = 300, learning_rate: float = 0.06, seed: int = 0) -> None:
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.seed = seed

    def fit(self, datamodule: Any) -> GradientBoostingBaseline:
        """Fit on the training split (categorical codes as native categories)."""
        from sklearn.ensemble import HistGradientBoostingClassifier

        x_num, x_cat, y = datamodule.tensors["train"]
        n_numeric = x_num.shape[1]
        categorical = [n_numeric + j for j in range(x_cat.shape[1])]
        self.model = HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            categorical_features=categorical or None,
            early_stopping=True,
            random_state=self.seed,
        )
        self.model.fit(self._matrix((x_num, x_cat)), y.numpy().astype(int))
        return self

    @staticmethod
    def _matrix(inputs: Inputs) -> np.ndarray:
        x_num, x_cat = inputs
        return np.hstack([x_num.numpy().astype(np.float64), np.minimum(x_cat.numpy(), 254).astype(np.float64)])

    def predict(self, inputs: Inputs) -> np.ndarray:
        """Positive-class probabilities for (x_num, x_cat)."""
        return self.model.predict_proba(self._matrix(inputs))[:, 1]
