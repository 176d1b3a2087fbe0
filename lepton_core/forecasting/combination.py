"""The deployed forecaster: the network, a statistical model, or an equal-weight mean of several, chosen on validation.

:func:`select_combination` forecasts every series at a few rolling origins cut from the end of the
training part (:meth:`ForecastDataModule.selection_origins`, never a test origin) with the network and
every deployable statistical model (the task's baselines), then scores every non-empty subset of them,
averaged with equal weights (robust where fitted weights would overfit a few origins), by the mean MASE
over those origins. A few validation origins cannot tell apart scores within ``tolerance`` (2%) of each
other, so the rule (``selection``) decides among those:

- ``auto`` (the default): ``combine`` for series without covariates, ``simplest`` with covariates. The
  statistical models cannot read covariates known in the future (price, promotions, holidays), and a
  validation span without their peaks would not show what averaging the network with them loses.
- ``combine``: the mean of the network and every deployable statistical model but seasonal
  naive, when it is within the tolerance of the best score. Equal-weight combinations of a few good
  forecasters are more accurate than the single best one chosen on a short validation span far more
  often than not (the "forecast combination puzzle": Claeskens et al. 2016; the M4 competition,
  Makridakis et al. 2020), because a choice made on few origins is itself noisy. Otherwise the simplest
  candidate within the tolerance of the best, as with ``simplest``.
- ``simplest``: the candidate with the fewest members within the tolerance of the best (the network
  before the statistical models; the network alone is the one that reads the covariates).

The deployed subset is the ``model`` the evaluation scores on the test origins and the bundle serves.

:func:`combine_forecasts` is the one function both the evaluation and the predictor apply, so a bundle
answers with exactly what the run evaluated: the point forecast is the members' mean (the network's
member is its median); the quantiles are the network's, shifted by the difference between that mean and
the network's median (so the network's interval width is kept); ``nonnegative`` clips at zero.
The statistical members are refitted on the history a client sends; their configuration is plain JSON
in the bundle state (:meth:`ForecastCombination.to_state`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np

from lepton_core.forecasting.baselines import STATISTICAL_MODELS, statistical_model_from_state
from lepton_core.forecasting.metrics import forecast_metrics

__all__ = [
    "NETWORK",
    "SELECTION_RULES",
    "ForecastCombination",
    "choose_subset",
    "combine_forecasts",
    "resolve_selection",
    "score_subsets",
    "select_combination",
    "simplest_within",
    "validation_forecasts",
]

NETWORK = "network"
SELECTION_RULES = ("auto", "combine", "simplest")
#: left out of the ``combine`` rule's preferred mean: a benchmark, not a forecaster to average in
NOT_COMBINED = ("seasonal_naive",)


@dataclass(frozen=True)
class ForecastCombination:
    """Members of the deployed forecaster (``network`` and/or statistical model names) and their configuration."""

    members: tuple[str, ...]
    statistical: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    nonnegative: bool = False
    validation_mase: Mapping[str, float] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """'network', 'theta' or 'mean(network, theta)'."""
        return self.members[0] if len(self.members) == 1 else f"mean({', '.join(self.members)})"

    @property
    def history_needed(self) -> int | None:
        """Points of history the statistical members read (None: all of it; 0: only the network's window)."""
        needs = [0]
        for name in self.members:
            if name == NETWORK:
                continue
            state = self.statistical[name]
            if state["kind"] == "seasonal_naive":
                needs.append(int(state["season_length"]))
            elif not state.get("max_history"):
                return None
            else:
                needs.append(int(state["max_history"]))
        return max(needs)

    def statistical_models(self) -> dict[str, Any]:
        """The statistical members, rebuilt from their stored configuration."""
        return {name: statistical_model_from_state(self.statistical[name]) for name in self.members if name != NETWORK}

    def to_state(self) -> dict[str, Any]:
        """Plain JSON for the bundle state."""
        return {
            "members": list(self.members),
            "statistical": {name: dict(self.statistical[name]) for name in self.members if name != NETWORK},
            "nonnegative": self.nonnegative,
            "history": self.history_needed,
            "validation_mase": {k: float(v) for k, v in self.validation_mase.items()},
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> ForecastCombination:
        """Rebuild from :meth:`to_state` (a bundle's state)."""
        from lepton_core.errors import BundleError

        members = tuple(str(m) for m in state.get("members") or ())
        statistical = {str(k): dict(v) for k, v in (state.get("statistical") or {}).items()}
        unknown = [m for m in members if m != NETWORK and m not in statistical]
        if not members or unknown:
            raise BundleError(
                f"the bundle's forecast combination is incomplete (members {list(members)})",
                "rebuild the bundle with `lepton run`",
            )
        for name in members:
            if name != NETWORK:
                statistical_model_from_state(statistical[name])
        return cls(members, statistical, bool(state.get("nonnegative", False)), dict(state.get("validation_mase") or {}))


def combine_forecasts(
    combination: ForecastCombination, network: np.ndarray, median_index: int, statistical: Mapping[str, np.ndarray]
) -> np.ndarray:
    """Quantile forecasts (series, horizon, Q) of the combination from the network's quantiles and the members' points."""
    network = np.asarray(network, dtype=float)
    median = network[..., median_index]
    points = [median if name == NETWORK else np.asarray(statistical[name], dtype=float) for name in combination.members]
    point = np.mean(points, axis=0)
    quantiles = network + (point - median)[..., None]
    return np.maximum(quantiles, 0.0) if combination.nonnegative else quantiles


def _deployable(baselines: Sequence[Any]) -> list[Any]:
    """Baselines the bundle can rebuild (the core's statistical models)."""
    return [b for b in baselines if STATISTICAL_MODELS.get(getattr(b, "name", None)) is type(b)]


ValidationRound = tuple[np.ndarray, list[np.ndarray], dict[str, np.ndarray]]


def validation_forecasts(datamodule: Any, model: Any, statistical: Sequence[Any]) -> list[ValidationRound]:
    """(actuals, histories, point forecasts per candidate) at each selection origin; no test origin is read."""
    from lepton_core.forecasting.model import forecast_windows

    series = datamodule.series
    origins = datamodule.selection_origins()
    rounds = []
    for k in range(max(len(o) for o in origins)):
        picks = [o[k : k + 1] for o in origins]
        batch = datamodule.windows(picks)
        histories = [series.values[i][: int(p[0])] for i, p in enumerate(picks) if len(p)]
        points = {NETWORK: forecast_windows(model, batch.inputs())[..., model.median_index]}
        for baseline in statistical:
            points[baseline.name] = np.asarray(baseline.predict(histories), dtype=float)
        rounds.append((batch.target.numpy().astype(float), histories, points))
    return rounds


def score_subsets(rounds: Sequence[ValidationRound], season: int, nonnegative: bool = False) -> dict[tuple[str, ...], float]:
    """Mean MASE over the rounds of the equal-weight mean of every non-empty subset of the candidates (clipped at 0 when ``nonnegative``)."""
    names = list(rounds[0][2])
    scores: dict[tuple[str, ...], float] = {}
    for size in range(1, len(names) + 1):
        for members in combinations(names, size):
            values = []
            for actual, histories, points in rounds:
                point = np.mean([points[m] for m in members], axis=0)
                point = np.maximum(point, 0.0) if nonnegative else point
                values.append(forecast_metrics(actual, point, histories, season)[0]["mase"])
            scores[members] = float(np.nanmean(values)) if np.isfinite(values).any() else float("inf")
    return scores


def simplest_within(scores: Mapping[tuple[str, ...], float], tolerance: float) -> tuple[str, ...]:
    """The subset with the fewest members (the first in candidate order among equals) within ``tolerance`` of the best score."""
    best_score = min(scores.values())
    close = [members for members, score in scores.items() if score <= best_score * (1 + tolerance)]
    return min(close, key=len)


def resolve_selection(selection: str, has_covariates: bool) -> str:
    """``combine`` or ``simplest``: what ``selection`` means for series with or without covariates."""
    from lepton_core.errors import ConfigError

    if selection not in SELECTION_RULES:
        raise ConfigError(f"task.selection={selection!r} is not a selection rule", f"use one of {', '.join(SELECTION_RULES)}")
    if selection == "auto":
        return "simplest" if has_covariates else "combine"
    return selection


def choose_subset(scores: Mapping[tuple[str, ...], float], tolerance: float, selection: str = "combine") -> tuple[str, ...]:
    """The deployed subset under ``selection`` (combine or simplest, see the module docstring) among validation ``scores``."""
    if selection == "combine":
        names = max(scores, key=len)
        preferred = tuple(name for name in names if name not in NOT_COMBINED)
        if len(preferred) > 1 and scores.get(preferred, float("inf")) <= min(scores.values()) * (1 + tolerance):
            return preferred
    return simplest_within(scores, tolerance)


def select_combination(
    datamodule: Any, model: Any, baselines: Sequence[Any], tolerance: float = 0.02, selection: str = "auto"
) -> ForecastCombination:
    """The subset of network + deployable baselines that ``selection`` picks on the validation origins' mean MASE."""
    selection = resolve_selection(selection, bool(datamodule.series.covariate_names))
    statistical = _deployable(baselines)
    nonnegative = bool(getattr(model.hparams, "nonnegative", False))
    rounds = validation_forecasts(datamodule, model, statistical)
    scores = score_subsets(rounds, datamodule.series.season_length, nonnegative)
    best = choose_subset(scores, tolerance, selection)
    return ForecastCombination(
        members=best,
        statistical={b.name: b.to_state() for b in statistical},
        nonnegative=nonnegative,
        validation_mase={(m[0] if len(m) == 1 else f"mean({', '.join(m)})"): s for m, s in scores.items()},
    )
