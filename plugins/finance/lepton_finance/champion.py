"""The champion: on the validation split (never test), the network, a baseline or a network+baseline blend,
whichever scores best on the task's primary metric, is what the bundle deploys.

Every candidate is ``z = w * z_network + (1 - w) * z_baseline`` in log-odds: the network (w = 1), a
baseline (w = 0) or a blend (w in BLEND_WEIGHTS, with the best baseline). Each candidate gets its own
decision policy (Platt calibration kept only where it lowers the validation ECE, the cost threshold), so
they are compared, and deployed, as they would be used. The deployed baseline travels pickle-free: the
logistic model as its coefficients in the state, gradient boosting as a LightGBM text model file that
the bundle's manifest hashes like any other file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lepton_core.errors import BundleError, ConfigError
from lepton_core.tabular.baselines import LinearScorer, TreeScorer
from lepton_finance.decision import DecisionPolicy, expected_cost, fit_policy

__all__ = [
    "BLEND_WEIGHTS",
    "GREATER_IS_BETTER",
    "PRIMARY_METRICS",
    "Candidate",
    "Champion",
    "DeployedScorer",
    "check_champion_options",
    "metric_value",
    "primary_metric",
    "select_champion",
]

# what each task's users decide by: ranking quality for credit (ROC-AUC / Gini is the industry's measure of
# a scorecard), precision among the few flagged for rare fraud (average precision; ROC-AUC flatters a
# model that ranks the many genuine transactions well but the frauds poorly)
PRIMARY_METRICS = {"credit_scoring": "roc_auc", "fraud_detection": "pr_auc"}
SELECTABLE = ("roc_auc", "pr_auc", "expected_cost")
# direction of every metric finance reports (for a core that lists each metric where a baseline wins)
GREATER_IS_BETTER = {
    "roc_auc": True, "gini": True, "ks": True, "pr_auc": True, "brier": False, "log_loss": False,
    "accuracy": True, "precision": True, "recall": True, "f1": True, "expected_cost": False, "ece": False,
    "ece_uncalibrated": False,
}
BLEND_WEIGHTS = (0.25, 0.5, 0.75)
MODEL_FILES = {"gradient_boosting": "gradient_boosting.lgb.txt"}


def primary_metric(task_cfg: Any) -> str:
    """``task.primary_metric`` or the task's default (roc_auc for credit, pr_auc for fraud)."""
    name = task_cfg.get("primary_metric") or PRIMARY_METRICS.get(str(task_cfg.get("name")), "roc_auc")
    if name not in SELECTABLE:
        raise ConfigError(f"unknown task.primary_metric '{name}'", f"use one of {', '.join(SELECTABLE)}")
    return str(name)


def check_champion_options(task_cfg: Any, baseline_names: Sequence[str]) -> None:
    """Refuse an unknown ``task.primary_metric`` or a ``task.champion`` that no contender of the run can be."""
    primary_metric(task_cfg)
    forced = str(task_cfg.get("champion") or "auto")
    allowed = ["auto", "model", *baseline_names, *(f"model+{name}" for name in baseline_names)]
    if forced not in allowed:
        raise ConfigError(f"task.champion={forced} is not a contender of this run", f"use one of {', '.join(allowed)}")


def metric_value(metric: str, y: np.ndarray, prob: np.ndarray, policy: DecisionPolicy) -> float:
    """One selectable metric of probabilities ``prob`` (expected cost at the policy's threshold)."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    if metric == "roc_auc":
        return float(roc_auc_score(y, prob))
    if metric == "pr_auc":
        return float(average_precision_score(y, prob))
    return expected_cost(y, prob, policy.threshold, policy.cost_false_negative, policy.cost_false_positive)


@dataclass
class DeployedScorer:
    """``z = network_weight * z_network + (1 - network_weight) * z_baseline``; reason codes in the same blend."""

    network_weight: float
    baseline: LinearScorer | TreeScorer | None = None

    @property
    def uses_network(self) -> bool:
        """Whether the network's logits are needed."""
        return self.network_weight > 0

    def logits(self, network_logits: np.ndarray | None, inputs: tuple[Any, Any]) -> np.ndarray:
        """Champion log-odds from the network's logits (None when unused) and the preprocessed inputs."""
        z = np.zeros(len(inputs[0]), dtype=np.float64)
        if self.uses_network:
            z += self.network_weight * np.asarray(network_logits, dtype=np.float64).reshape(-1)
        if self.baseline is not None and self.network_weight < 1:
            z += (1 - self.network_weight) * self.baseline.logits(inputs)
        return z

    def attributions(self, network_attributions: np.ndarray | None, inputs: tuple[Any, Any], preprocessor: Any) -> np.ndarray:
        """Per-column contributions to the champion's log-odds (the network's integrated gradients, weighted)."""
        total = np.zeros((len(inputs[0]), len(preprocessor.columns)))
        if self.uses_network and network_attributions is not None:
            total += self.network_weight * network_attributions
        if self.baseline is not None and self.network_weight < 1:
            reference = (preprocessor.reference_numeric(), preprocessor.reference_category_shares())
            attr_num, attr_cat = self.baseline.contributions(inputs, reference)
            total += (1 - self.network_weight) * preprocessor.group_by_column(attr_num, attr_cat)
        return total

    @classmethod
    def from_state(cls, state: Mapping[str, Any], read_file: Any) -> DeployedScorer:
        """Rebuild from ``Champion.state()``; ``read_file(name) -> str`` reads a hashed bundle file."""
        weight = float(state.get("network_weight", 1.0))
        baseline_state = state.get("baseline")
        if not baseline_state:
            return cls(weight)
        kind = baseline_state.get("kind")
        if kind == "logistic":
            return cls(weight, LinearScorer.from_state(baseline_state["coefficients"]))
        if kind == "gradient_boosting":
            return cls(weight, TreeScorer(read_file(MODEL_FILES[kind])))
        raise BundleError(f"bundle champion has an unknown baseline kind '{kind}'", "rebuild the bundle with this plugin version")


@dataclass
class Candidate:
    """One contender for deployment, scored on the validation split."""

    name: str
    network_weight: float
    baseline: str | None
    policy: DecisionPolicy
    val_score: float

    def record(self) -> dict[str, Any]:
        """JSON-ready summary for metrics.json."""
        return {
            "name": self.name,
            "network_weight": self.network_weight,
            "baseline": self.baseline,
            "validation_score": self.val_score,
            "calibrated": self.policy.calibrated,
            "ece_val_uncalibrated": self.policy.ece_val_uncalibrated,
            "ece_val_calibrated": self.policy.ece_val_calibrated,
        }


@dataclass
class Champion:
    """The candidates, the chosen one and the fitted baselines needed to deploy it."""

    metric: str
    greater_is_better: bool
    candidates: list[Candidate]
    chosen: Candidate
    scorers: dict[str, LinearScorer | TreeScorer] = field(default_factory=dict)

    def deployed(self) -> DeployedScorer:
        """The chosen candidate as a scorer."""
        baseline = self.scorers.get(self.chosen.baseline) if self.chosen.baseline else None
        return DeployedScorer(self.chosen.network_weight, baseline)

    def scorer_of(self, candidate: Candidate) -> DeployedScorer:
        """Any candidate as a scorer."""
        baseline = self.scorers.get(candidate.baseline) if candidate.baseline else None
        return DeployedScorer(candidate.network_weight, baseline)

    def state(self) -> dict[str, Any]:
        """What the bundle's preprocess.json records (no class names: the baseline kind picks fixed code)."""
        baseline: dict[str, Any] | None = None
        kind = self.chosen.baseline
        if kind == "logistic":
            scorer = self.scorers[kind]
            assert isinstance(scorer, LinearScorer)
            baseline = {"kind": kind, "coefficients": scorer.to_state()}
        elif kind == "gradient_boosting":
            baseline = {"kind": kind, "file": MODEL_FILES[kind]}
        return {
            "name": self.chosen.name,
            "network_weight": self.chosen.network_weight,
            "baseline": baseline,
            "metric": self.metric,
            "validation_score": self.chosen.val_score,
        }

    def files(self) -> dict[str, bytes]:
        """Extra bundle files of the chosen candidate (the LightGBM text model when it uses gradient boosting)."""
        if self.chosen.baseline == "gradient_boosting" and self.chosen.network_weight < 1:
            scorer = self.scorers["gradient_boosting"]
            assert isinstance(scorer, TreeScorer)
            return {MODEL_FILES["gradient_boosting"]: scorer.model_text().encode("utf-8")}
        return {}

    def record(self) -> dict[str, Any]:
        """JSON-ready selection record (metrics.json, model card)."""
        return {
            "name": self.chosen.name,
            "selected_on": "validation",
            "metric": self.metric,
            "greater_is_better": self.greater_is_better,
            "candidates": [c.record() for c in self.candidates],
        }


def _better(a: float, b: float, greater: bool) -> bool:
    return a > b if greater else a < b


def select_champion(
    task_cfg: Any, y_val: np.ndarray, network_val: np.ndarray | None, baselines: Sequence[Any],
    inputs_val: tuple[Any, Any], seed: int = 0,
) -> Champion:
    """Score the network, each baseline and the best network+baseline blend on validation; pick the best.

    A candidate replaces the network only when strictly better (ties keep the network, then the first baseline).
    ``task.champion`` other than ``auto`` deploys that contender (``model``, a baseline's name or the blend's
    ``model+<baseline>``) whatever the scores, e.g. where policy requires the logistic scorecard.
    """
    metric = primary_metric(task_cfg)
    greater = GREATER_IS_BETTER[metric]
    y = np.asarray(y_val).astype(int)
    scorers = {b.name: b.scorer() for b in baselines if hasattr(b, "scorer")}
    baseline_val = {name: scorer.logits(inputs_val) for name, scorer in scorers.items()}

    def candidate(name: str, weight: float, baseline: str | None) -> Candidate:
        z = np.zeros(len(y))
        if weight > 0:
            z += weight * np.asarray(network_val, dtype=np.float64)
        if baseline is not None and weight < 1:
            z += (1 - weight) * baseline_val[baseline]
        policy = fit_policy(task_cfg, z, y, seed)
        return Candidate(name, weight, baseline, policy, metric_value(metric, y, policy.probability(z), policy))

    candidates = [candidate("model", 1.0, None)] if network_val is not None else []
    singles = [candidate(name, 0.0, name) for name in scorers]
    candidates += singles
    if network_val is not None and singles:
        best_single = singles[0]
        for single in singles[1:]:
            if _better(single.val_score, best_single.val_score, greater):
                best_single = single
        blends = [candidate(f"model+{best_single.name}", w, best_single.name) for w in BLEND_WEIGHTS]
        best_blend = blends[0]
        for blend in blends[1:]:
            if _better(blend.val_score, best_blend.val_score, greater):
                best_blend = blend
        candidates.append(best_blend)
    if not candidates:
        raise ConfigError("nothing to deploy: no network and no baseline", "enable a baseline in cfg.baselines")
    chosen = candidates[0]
    for contender in candidates[1:]:
        if _better(contender.val_score, chosen.val_score, greater):
            chosen = contender
    forced = str(task_cfg.get("champion") or "auto")
    if forced != "auto":
        named = {c.name: c for c in candidates}
        if forced not in named:
            raise ConfigError(f"task.champion={forced} is not a contender of this run",
                              f"use auto or one of {', '.join(named)}")
        chosen = named[forced]
    return Champion(metric, greater, candidates, chosen, scorers)
