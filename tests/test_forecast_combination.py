"""The deployed forecaster: chosen on validation origins only, better than its parts where that is known, and rebuilt
from plain JSON state so the predictor answers exactly what the evaluation scored."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from lepton_core.errors import BundleError
from lepton_core.forecasting import (
    ExponentialSmoothingBaseline,
    ForecastCombination,
    ForecastDataModule,
    ForecastPredictor,
    GlobalForecaster,
    SeasonalNaive,
    ThetaBaseline,
    backtest,
    select_combination,
    statistical_model_from_state,
)
from lepton_core.forecasting.combination import score_subsets, simplest_within

HORIZON = 6


def datamodule(frame: pd.DataFrame) -> ForecastDataModule:
    module = ForecastDataModule(horizon=HORIZON, input_size=24, demo=frame, backtest_windows=2, selection_windows=3)
    module.setup()
    return module


def network(module: ForecastDataModule) -> GlobalForecaster:
    return GlobalForecaster(**module.model_kwargs(), hidden=16, n_blocks=1, n_members=1).eval()


class RecordingTheta(ThetaBaseline):
    """Theta that records the length of every history it forecasts from (not deployable: a subclass)."""

    def __init__(self) -> None:
        super().__init__()
        self.lengths: list[int] = []

    def predict(self, histories):  # type: ignore[no-untyped-def]
        self.lengths.extend(len(h) for h in histories)
        return super().predict(histories)


def test_selection_origins_end_before_the_first_test_origin(monthly_frame: Callable[..., pd.DataFrame]) -> None:
    module = datamodule(monthly_frame())
    for picks, tests in zip(module.selection_origins(), module.test_origins):
        assert len(picks) == 3
        assert picks.max() + HORIZON <= tests.min()


def test_selection_never_reads_the_test_part(monthly_frame: Callable[..., pd.DataFrame]) -> None:
    frame = monthly_frame()
    module = datamodule(frame)
    first_test = int(min(o.min() for o in module.test_origins))
    baselines = [b.fit(module) for b in (SeasonalNaive(), ThetaBaseline())]
    model = network(module)
    chosen = select_combination(module, model, baselines)
    # the test part replaced by wild values: the choice and every validation score stay the same
    leaked = frame.copy()
    position = leaked.groupby("unique_id").cumcount()
    leaked.loc[position >= first_test, "y"] = 1e6 * np.random.default_rng(1).random((position >= first_test).sum())
    other = datamodule(leaked)
    again = select_combination(other, model, [b.fit(other) for b in (SeasonalNaive(), ThetaBaseline())])
    assert again.members == chosen.members
    assert again.validation_mase == pytest.approx(chosen.validation_mase)
    spy = RecordingTheta().fit(module)
    from lepton_core.forecasting.combination import validation_forecasts

    validation_forecasts(module, model, [spy])
    assert spy.lengths and max(spy.lengths) + HORIZON <= first_test


def test_the_mean_is_chosen_and_beats_its_parts_when_their_errors_cancel() -> None:
    rng = np.random.default_rng(0)
    rounds = []
    for _ in range(3):
        actual = 100 + rng.normal(0, 5, (4, HORIZON))
        histories = [100 + rng.normal(0, 5, 48) for _ in range(4)]
        bias = rng.uniform(4, 8, (4, HORIZON))
        points = {"network": actual + bias, "theta": actual - bias, "exponential_smoothing": actual + rng.normal(0, 6, actual.shape)}
        rounds.append((actual, histories, points))
    scores = score_subsets(rounds, season=12)
    best = min(scores, key=scores.get)
    assert best == ("network", "theta")
    assert scores[best] < 0.01 < min(scores[("network",)], scores[("theta",)], scores[("exponential_smoothing",)])


def test_the_simplest_candidate_within_the_tolerance_is_deployed() -> None:
    scores = {("network",): 0.634, ("theta",): 0.70, ("network", "theta"): 0.628}
    assert simplest_within(scores, 0.02) == ("network",)
    assert simplest_within(scores, 0.0) == ("network", "theta")
    assert simplest_within({("network",): 0.35, ("theta",): 0.66, ("network", "theta"): 0.29}, 0.02) == ("network", "theta")


def test_bundle_state_rebuilds_exactly_what_the_backtest_scored(monthly_frame: Callable[..., pd.DataFrame]) -> None:
    module = datamodule(monthly_frame())
    baselines = [b.fit(module) for b in (SeasonalNaive(), ExponentialSmoothingBaseline(), ThetaBaseline(max_history=48))]
    model = network(module)
    chosen = select_combination(module, model, baselines)
    combination = ForecastCombination(("network", "exponential_smoothing", "theta"), chosen.statistical, chosen.nonnegative)
    runs = backtest(module, model, baselines, combination)
    assert set(runs[0].points) == {"model", "network", "seasonal_naive", "exponential_smoothing", "theta"}
    expected = np.mean([runs[0].points[n] for n in ("network", "exponential_smoothing", "theta")], axis=0)
    assert np.allclose(runs[0].points["model"], expected)
    state = json.loads(json.dumps(module.export_state(combination)))
    predictor = ForecastPredictor(model, state)
    assert len(module.input_example(count=2, combination=combination)[0]["y"]) == int(module.test_origins[0][0])  # ETS reads it all
    example = module.history_items(count=2, combination=combination)
    outputs = predictor.predict(example)
    for i, output in enumerate(outputs):
        assert np.allclose(output["forecast"], runs[0].points["model"][i], rtol=1e-6, atol=1e-5)
        assert np.allclose(output["quantiles"]["0.9"], runs[0].quantiles[i, :, -1], rtol=1e-6, atol=1e-5)


def test_network_alone_keeps_the_plain_predictor_path(monthly_frame: Callable[..., pd.DataFrame]) -> None:
    module = datamodule(monthly_frame())
    model = network(module)
    combination = ForecastCombination(("network",))
    predictor = ForecastPredictor(model, json.loads(json.dumps(module.export_state(combination))))
    assert predictor.statistical == {}
    assert len(module.input_example(combination=combination)[0]["y"]) == module.input_size


def test_unknown_statistical_kind_in_a_bundle_is_a_bundle_error() -> None:
    with pytest.raises(BundleError, match="unknown statistical model 'os.system'"):
        statistical_model_from_state({"kind": "os.system", "horizon": 3, "season_length": 1})
    with pytest.raises(BundleError, match="incomplete"):
        ForecastCombination.from_state({"members": ["network", "theta"], "statistical": {}})
