"""Classical baselines on the network's own preprocessed features: logistic regression, gradient boosting.

Either can be deployed in a bundle (finance's champion), so each gives its log-odds (``logits``),
per-column contributions to them (reason codes) and a pickle-free form for the bundle: the logistic
model as its coefficients (JSON), gradient boosting as LightGBM's own text model format. LightGBM is
imported only when gradient boosting is used; a plugin that uses it declares ``lightgbm`` itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lepton_core.tabular.design import design_matrix

__all__ = ["GradientBoostingBaseline", "LinearScorer", "LogisticBaseline", "TreeScorer"]

Inputs = tuple[torch.Tensor, torch.Tensor]


def _arrays(inputs: Inputs) -> tuple[np.ndarray, np.ndarray]:
    x_num, x_cat = inputs
    return np.asarray(x_num, dtype=np.float64), np.asarray(x_cat, dtype=np.int64)


class LinearScorer:
    """Log-odds ``intercept + x_num @ w_num + sum_j w_cat[j][x_cat[:, j]]``: a fitted logistic model, numpy only."""

    def __init__(self, intercept: float, numeric: list[float], categorical: list[list[float]]) -> None:
        self.intercept = float(intercept)
        self.numeric = np.asarray(numeric, dtype=np.float64)
        self.categorical = [np.asarray(w, dtype=np.float64) for w in categorical]

    def logits(self, inputs: Inputs) -> np.ndarray:
        """Log-odds of each row."""
        num, cat = _arrays(inputs)
        z = self.intercept + num @ self.numeric
        for j, weights in enumerate(self.categorical):
            z = z + weights[cat[:, j]]
        return z

    def contributions(self, inputs: Inputs, reference: tuple[np.ndarray, list[np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
        """Exact per-input contributions against the average training row: (n, n_numeric), (n, n_categorical)."""
        num, cat = _arrays(inputs)
        ref_num, shares = reference
        attr_num = (num - np.asarray(ref_num, dtype=np.float64)) * self.numeric
        attr_cat = np.zeros((num.shape[0], len(self.categorical)))
        for j, weights in enumerate(self.categorical):
            attr_cat[:, j] = weights[cat[:, j]] - float(np.asarray(shares[j], dtype=np.float64) @ weights)
        return attr_num, attr_cat

    def to_state(self) -> dict[str, Any]:
        """JSON-ready coefficients."""
        return {"intercept": self.intercept, "numeric": self.numeric.tolist(), "categorical": [w.tolist() for w in self.categorical]}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> LinearScorer:
        """Rebuild from ``to_state()``."""
        return cls(state["intercept"], state["numeric"], state["categorical"])


class TreeScorer:
    """A LightGBM booster read from its text model (no pickle): raw log-odds and TreeSHAP contributions."""

    def __init__(self, model_text: str) -> None:
        import lightgbm

        self.booster = lightgbm.Booster(model_str=model_text)

    @staticmethod
    def matrix(inputs: Inputs) -> np.ndarray:
        """[x_num | x_cat codes] as float64 (categorical codes are LightGBM categories)."""
        num, cat = _arrays(inputs)
        return np.hstack([num, cat.astype(np.float64)])

    def logits(self, inputs: Inputs) -> np.ndarray:
        """Raw scores (log-odds) of each row."""
        return np.asarray(self.booster.predict(self.matrix(inputs), raw_score=True), dtype=np.float64)

    def contributions(self, inputs: Inputs, reference: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """TreeSHAP contributions to the log-odds (against the average training prediction)."""
        n_numeric = np.asarray(inputs[0]).shape[1]
        contrib = np.asarray(self.booster.predict(self.matrix(inputs), pred_contrib=True), dtype=np.float64)
        return contrib[:, :n_numeric], contrib[:, n_numeric:-1]

    def model_text(self) -> str:
        """LightGBM's text model format."""
        return self.booster.model_to_string()


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

    def scorer(self) -> LinearScorer:
        """The fitted model as a numpy scorer (what a bundle deploys)."""
        coef = self.model.coef_[0]
        n_numeric = len(coef) - sum(self.cardinalities)
        blocks, start = [], n_numeric
        for cardinality in self.cardinalities:
            blocks.append(coef[start : start + cardinality].tolist())
            start += cardinality
        return LinearScorer(float(self.model.intercept_[0]), coef[:n_numeric].tolist(), blocks)

    def predict(self, inputs: Inputs) -> np.ndarray:
        """Positive-class probabilities for (x_num, x_cat)."""
        return self.model.predict_proba(design_matrix(*inputs, self.cardinalities))[:, 1]


class GradientBoostingBaseline:
    """LightGBM with native categorical splits; boosting rounds chosen by early stopping on the validation split.

    LightGBM rather than scikit-learn's HistGradientBoosting: its text model format loads without pickle
    and its TreeSHAP contributions (``pred_contrib``) give exact reason codes when it is the champion.
    Defaults for small tables (chosen on the validation splits of benchmarks/finance_quality.py's credit tables):
    small trees (8 leaves, >= 30 rows each) and one-vs-rest splits for categoricals of up to 64 levels
    (LightGBM's many-vs-many categorical splits overfit on a thousand rows).
    """

    name = "gradient_boosting"

    def __init__(
        self,
        max_iter: int = 1000,
        learning_rate: float = 0.05,
        num_leaves: int = 8,
        min_child_samples: int = 30,
        max_cat_to_onehot: int = 64,
        subsample: float = 0.8,
        colsample: float = 0.8,
        reg_lambda: float = 1.0,
        early_stopping_rounds: int = 50,
        seed: int = 0,
    ) -> None:
        self.params = {
            "objective": "binary",
            "learning_rate": float(learning_rate),
            "num_leaves": int(num_leaves),
            "min_data_in_leaf": int(min_child_samples),
            "max_cat_to_onehot": int(max_cat_to_onehot),
            "bagging_fraction": float(subsample),
            "bagging_freq": 1,
            "feature_fraction": float(colsample),
            "lambda_l2": float(reg_lambda),
            "metric": "binary_logloss",
            "verbosity": -1,
            "seed": int(seed),
            "deterministic": True,
            "force_row_wise": True,
        }
        self.max_iter = int(max_iter)
        self.early_stopping_rounds = int(early_stopping_rounds)
        self.tree: TreeScorer | None = None

    def fit(self, datamodule: Any) -> GradientBoostingBaseline:
        """Fit on the training split, stopping when the validation log loss has not improved for a while."""
        import lightgbm

        splits = {}
        for split in ("train", "val"):
            x_num, x_cat, y = datamodule.tensors[split]
            splits[split] = (TreeScorer.matrix((x_num, x_cat)), y.numpy().astype(int))
        n_numeric = datamodule.tensors["train"][0].shape[1]
        categorical = list(range(n_numeric, splits["train"][0].shape[1]))
        params = {**self.params, "num_threads": 1}  # one thread: deterministic, and the tables are small
        train = lightgbm.Dataset(*splits["train"], categorical_feature=categorical or "auto", free_raw_data=False)
        val = lightgbm.Dataset(*splits["val"], reference=train, categorical_feature=categorical or "auto")
        booster = lightgbm.train(
            params, train, num_boost_round=self.max_iter, valid_sets=[val],
            callbacks=[lightgbm.early_stopping(self.early_stopping_rounds, verbose=False)],
        )
        self.tree = TreeScorer(booster.model_to_string(num_iteration=booster.best_iteration or None))
        return self

    def scorer(self) -> TreeScorer:
        """The fitted booster (what a bundle deploys)."""
        assert self.tree is not None, "fit first"
        return self.tree

    def predict(self, inputs: Inputs) -> np.ndarray:
        """Positive-class probabilities for (x_num, x_cat)."""
        return 1.0 / (1.0 + np.exp(-self.scorer().logits(inputs)))
