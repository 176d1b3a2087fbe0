"""Unit tests of lepton_core.forecasting: validation rules, frequency, windows, metrics, baselines, model, predictor."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from lepton_core.errors import DataError
from lepton_core.forecasting import (
    ExponentialSmoothingBaseline,
    ForecastDataModule,
    ForecastPredictor,
    GlobalForecaster,
    SeasonalNaive,
    calendar_feature_count,
    calendar_features,
    forecast_metrics,
    infer_frequency,
    mase_scale,
    minimum_length,
    prepare_series,
    seasonal_naive_forecast,
)
from lepton_core.forecasting.series import format_timestamp


def series_frame(n_series: int = 3, length: int = 120, freq: str = "D", covariate: bool = False) -> pd.DataFrame:
    rows = []
    for s in range(n_series):
        ds = pd.date_range("2024-01-01", periods=length, freq=freq)
        t = np.arange(length)
        y = 10 + s + 3 * np.sin(2 * np.pi * t / 7) + 0.02 * t
        frame = pd.DataFrame({"unique_id": f"s{s}", "ds": ds, "y": y})
        if covariate:
            frame["promo"] = (t % 11 == 0).astype(float)
        rows.append(frame)
    return pd.concat(rows, ignore_index=True)


def test_duplicate_rows_are_a_data_error() -> None:
    frame = series_frame()
    frame = pd.concat([frame, frame.iloc[[5]]])
    with pytest.raises(DataError, match=r"duplicate \(unique_id, ds\) rows, e.g. \(s0, 2024-01-06\)"):
        prepare_series(frame)


def test_non_numeric_target_is_a_data_error() -> None:
    frame = series_frame().astype({"y": object})
    frame.loc[3, "y"] = "abc"
    with pytest.raises(DataError, match=r"column 'y' is not numeric \(1 rows like 'abc'\)"):
        prepare_series(frame)


def test_unparseable_dates_are_a_data_error() -> None:
    frame = series_frame().astype({"ds": object})
    frame.loc[7, "ds"] = "not a date"
    with pytest.raises(DataError, match=r"column 'ds' has 1 unparseable dates like 'not a date'"):
        prepare_series(frame)


def test_missing_columns_name_the_fix() -> None:
    with pytest.raises(DataError, match=r"column\(s\) price missing.*data.covariates"):
        prepare_series(series_frame(), covariates=["price"])


def test_short_series_error_names_series_and_length() -> None:
    frame = pd.concat([series_frame(2, 120), series_frame(1, 20).assign(unique_id="tiny")])
    with pytest.raises(DataError, match=r"series 'tiny' has 20 points but .* need at least 50.*short_series=drop"):
        prepare_series(frame, min_length=50)
    dropped = prepare_series(frame, min_length=50, short_series="drop")
    assert dropped.ids == ("s0", "s1") and dropped.dropped == ("tiny",)


def test_horizon_longer_than_shortest_series_allows() -> None:
    module = ForecastDataModule(horizon=40, input_size=14, demo=series_frame(2, 120))
    with pytest.raises(DataError, match=r"has 120 points but the horizon and backtest need at least 240.*task.horizon"):
        module.setup()


def test_missing_timestamps_follow_the_rule() -> None:
    frame = series_frame(1, 30).drop(index=[10, 11])
    zero = prepare_series(frame, missing="zero")
    assert len(zero.values[0]) == 30 and zero.values[0][10] == 0 and zero.filled_points == 2
    linear = prepare_series(frame, missing="interpolate")
    expected = frame.set_index("ds")["y"]
    assert np.isclose(linear.values[0][10], expected.iloc[9] + (expected.iloc[10] - expected.iloc[9]) / 3)
    with pytest.raises(DataError, match="2 missing timestamps or values"):
        prepare_series(frame, missing="error")


def test_all_zero_series_are_kept_and_left_out_of_mase() -> None:
    frame = pd.concat([series_frame(1, 60), series_frame(1, 60).assign(unique_id="zero", y=0.0)])
    prepared = prepare_series(frame)
    assert prepared.all_zero == ("zero",)
    actual = np.array([[1.0, 2.0], [0.0, 0.0]])
    overall, per_series = forecast_metrics(actual, actual + 1, [np.array([0.0, 1, 2, 3]), np.zeros(4)], season=1)
    assert np.isnan(per_series[1]["mase"]) and overall["mase"] == pytest.approx(1.0)


@pytest.mark.parametrize(("freq", "expected"), [("D", "D"), ("MS", "MS"), ("W-SUN", "W-SUN"), ("h", "h")])
def test_frequency_is_inferred(freq: str, expected: str) -> None:
    frame = series_frame(2, 40, freq=freq)
    assert infer_frequency(frame["ds"], frame["unique_id"]) == expected


def test_calendar_features_match_their_count() -> None:
    for freq in ("D", "MS", "W", "QS", "h", "YS"):
        stamps = pd.date_range("2024-01-01", periods=5, freq=freq)
        assert calendar_features(stamps, freq).shape == (5, calendar_feature_count(freq))
    monday = calendar_features(pd.DatetimeIndex(["2024-01-01"]), "D")[0]
    assert monday[0] == 1 and monday[1:7].sum() == 0


def test_metrics_on_known_values() -> None:
    history = [np.array([1.0, 2, 3, 4, 5])]
    overall, per_series = forecast_metrics(
        np.array([[6.0, 8.0]]), np.array([[5.0, 8.0]]), history, season=1,
        quantiles=np.array([[[4.0, 5.0, 7.0], [7.0, 8.0, 9.0]]]), levels=[0.1, 0.5, 0.9],
    )
    assert mase_scale(history[0], 1) == 1.0
    assert overall["mase"] == pytest.approx(0.5)
    assert overall["wape"] == pytest.approx(1 / 14)
    assert overall["smape"] == pytest.approx((200 * 1 / 11 + 0) / 2)
    assert overall["coverage_80"] == 1.0 and per_series[0]["coverage_80"] == 1.0
    pinball = np.mean([0.1 * 2 + 0.1 * 1, 0.5 * 1 + 0, 0.1 * 1 + 0.1 * 1])
    assert overall["quantile_loss"] == pytest.approx(2 * pinball / 14)


def test_seasonal_naive_repeats_the_last_season() -> None:
    history = np.arange(10.0)
    assert seasonal_naive_forecast(history, 5, 3).tolist() == [7, 8, 9, 7, 8]
    assert seasonal_naive_forecast(history[:2], 3, 7).tolist() == [1, 1, 1]


def test_windows_split_by_origin() -> None:
    module = ForecastDataModule(horizon=7, input_size=14, demo=series_frame(2, 100, covariate=True), covariates=["promo"], backtest_windows=2)
    module.setup()
    assert minimum_length(7, 2, 7) == 35
    assert module.test_origins[0].tolist() == [93, 86]
    assert len(module.val) == 2 * 7
    assert module.train.history.shape[1:] == (14,) and module.train.covariates.shape[1:] == (21, 1)
    first = module.windows([np.array([50]), np.array([], dtype=int)])
    assert torch.allclose(first.target[0], torch.tensor(module.series.values[0][50:57], dtype=torch.float32))
    assert torch.allclose(first.history[0], torch.tensor(module.series.values[0][36:50], dtype=torch.float32))
    padded = module.windows([np.array([3]), np.array([], dtype=int)])
    assert padded.mask[0].tolist() == [0.0] * 11 + [1.0] * 3


def test_baselines_forecast_the_horizon() -> None:
    module = ForecastDataModule(horizon=7, input_size=14, demo=series_frame(2, 100), backtest_windows=1)
    module.setup()
    histories = [v[:93] for v in module.series.values]
    naive = SeasonalNaive().fit(module).predict(histories)
    ets = ExponentialSmoothingBaseline().fit(module).predict(histories)
    assert naive.shape == ets.shape == (2, 7)
    truth = np.stack([v[93:] for v in module.series.values])
    assert np.abs(ets - truth).mean() < 0.5


def test_forecaster_outputs_sorted_quantiles_in_original_units() -> None:
    model = GlobalForecaster(input_size=14, horizon=7, n_covariates=1, n_calendar=9, hidden=32, n_blocks=1)
    history = torch.rand(4, 14) * 100 + 1000
    out = model(history, torch.ones(4, 14), torch.zeros(4, 21, 1), torch.zeros(4, 9))
    assert out.shape == (4, 7, 3)
    assert torch.all(out[..., 0] <= out[..., 1]) and torch.all(out[..., 1] <= out[..., 2])
    assert out.mean() > 500
    zero = model(torch.zeros(1, 14), torch.ones(1, 14), torch.zeros(1, 21, 1), torch.zeros(1, 9))
    assert torch.isfinite(zero).all()


def _history_item(module: ForecastDataModule, index: int) -> dict:
    """The predictor's input for series ``index`` at its first test origin (its real history)."""
    origin = int(module.test_origins[index][0])
    start = origin - module.input_size
    covariates = module.series.covariates[index]
    return {
        "unique_id": module.series.ids[index],
        "ds": [format_timestamp(t) for t in module.series.timestamps(index)[start:origin]],
        "y": [float(v) for v in module.series.values[index][start:origin]],
        "covariates": {n: [float(v) for v in covariates[start : origin + module.horizon, j]]
                       for j, n in enumerate(module.covariate_names)},
    }


def test_input_example_is_made_up_and_predictable() -> None:
    module = ForecastDataModule(horizon=7, input_size=14, demo=series_frame(2, 100, covariate=True), covariates=["promo"], backtest_windows=1)
    module.setup()
    example = module.input_example()
    real = [_history_item(module, index) for index in range(2)]
    assert [e["unique_id"] for e in example] == ["example-1", "example-2"]
    assert all(e["ds"] == r["ds"] and e["y"] != r["y"] for e, r in zip(example, real, strict=True))
    model = GlobalForecaster(**module.model_kwargs(), hidden=32, n_blocks=1).eval()
    outputs = ForecastPredictor(model, module.export_state()).predict(example)
    assert len(outputs) == 2 and len(outputs[0]["forecast"]) == 7


def test_predictor_builds_inputs_like_the_windows() -> None:
    module = ForecastDataModule(horizon=7, input_size=14, demo=series_frame(2, 100, covariate=True), covariates=["promo"], backtest_windows=1)
    module.setup()
    model = GlobalForecaster(**module.model_kwargs(), hidden=32, n_blocks=1).eval()
    predictor = ForecastPredictor(model, module.export_state())
    example = [_history_item(module, index) for index in range(2)]
    outputs = predictor.predict(example)
    expected = model(*module.windows([o[:1] for o in module.test_origins]).inputs()).detach()
    assert np.allclose(outputs[0]["forecast"], expected[0, :, 1].numpy(), atol=1e-4)
    assert outputs[0]["ds"][0] == "2024-04-03" and set(outputs[0]["quantiles"]) == {"0.1", "0.5", "0.9"}
    short = dict(example[0], ds=example[0]["ds"][-3:], y=example[0]["y"][-3:], covariates={"promo": [0.0] * 10})
    assert len(predictor.predict([short])[0]["forecast"]) == 7
    with pytest.raises(DataError, match=r"covariate 'promo' has 3 values, needs 10"):
        predictor.predict([dict(short, covariates={"promo": [0.0] * 3})])
    with pytest.raises(DataError, match=r"covariates \['promo'\] missing"):
        predictor.predict([dict(short, covariates={})])
