"""Short series: bootstrapped training copies and the refit never read the points they are scored on; the selection
rule combines where validation cannot tell candidates apart; the bundle serves the network the backtest scored."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from omegaconf import OmegaConf

from lepton_core.bundle import load_bundle
from lepton_core.errors import ConfigError
from lepton_core.forecasting import ForecastDataModule, GlobalForecaster
from lepton_core.forecasting.augment import auto_copies, bootstrap_copies
from lepton_core.forecasting.combination import choose_subset, resolve_selection
from lepton_core.forecasting.refit import should_refit
from lepton_core.testing.cli import latest_run, run_lepton

HORIZON = 6


def datamodule(frame: pd.DataFrame, copies: int | str = 3) -> ForecastDataModule:
    module = ForecastDataModule(horizon=HORIZON, input_size=24, demo=frame, backtest_windows=2, augment_copies=copies)
    module.setup()
    return module


def _after(frame: pd.DataFrame, cutoffs: list[int]) -> pd.DataFrame:
    """``frame`` with every point at or after each series' cutoff replaced by wild values."""
    leaked = frame.copy()
    position = leaked.groupby("unique_id").cumcount().to_numpy()
    cutoff = leaked["unique_id"].map(dict(zip(sorted(leaked["unique_id"].unique()), cutoffs))).to_numpy()
    wild = position >= cutoff
    leaked.loc[wild, "y"] = 1e6 * (1 + np.random.default_rng(1).random(wild.sum()))
    return leaked


def test_copies_keep_the_shape_of_the_series_with_other_noise(monthly_frame: Callable[..., pd.DataFrame]) -> None:
    y = monthly_frame(1, 96)["y"].to_numpy()
    copies = bootstrap_copies(y, 12, 5, np.random.default_rng(0))
    assert len(copies) == 5 and all(len(c) == len(y) and np.all(c > 0) for c in copies)
    for copy in copies:
        assert not np.allclose(copy, y)
        assert np.corrcoef(copy, y)[0, 1] > 0.9  # trend and season kept
    assert bootstrap_copies(np.full(30, 4.0), 12, 3, np.random.default_rng(0)) == []  # nothing to resample
    counts = np.array([0.0, 0.0, 3.0, 0.0, 1.0, 0.0] * 10)
    assert all(np.all(c >= 0) for c in bootstrap_copies(counts, 7, 4, np.random.default_rng(0)))


def test_auto_copies_top_small_data_up_and_leave_large_data_alone(monthly_frame: Callable[..., pd.DataFrame]) -> None:
    assert auto_copies(583) == 10 and auto_copies(2000) == 2 and auto_copies(32350) == 0 and auto_copies(0) == 0
    small = datamodule(monthly_frame(), copies="auto")
    assert small.copies == 10 and len(small.train) > 10 * small.real_train_windows
    assert datamodule(monthly_frame(), copies=0).copies == 0
    with pytest.raises(ConfigError, match="data.augment_copies='many'"):
        ForecastDataModule(horizon=HORIZON, input_size=24, demo=monthly_frame(), augment_copies="many")


def test_training_copies_never_read_validation_or_test_points(monthly_frame: Callable[..., pd.DataFrame]) -> None:
    frame = monthly_frame()
    module = datamodule(frame)
    leaked = datamodule(_after(frame, module.fit_cutoffs))
    assert len(module.train) > module.real_train_windows
    assert torch.equal(module.train.history, leaked.train.history)
    assert torch.equal(module.train.target, leaked.train.target)


def test_refit_windows_end_before_the_first_test_origin_and_add_the_validation_span(monthly_frame: Callable[..., pd.DataFrame]) -> None:
    frame = monthly_frame()
    module = datamodule(frame)
    for fit, refit, tests in zip(module.fit_cutoffs, module.refit_cutoffs, module.test_origins):
        assert fit < refit == int(tests.min())
    leaked = datamodule(_after(frame, module.refit_cutoffs))
    refit, again = module.refit_windows(), leaked.refit_windows()
    assert len(refit) > len(module.train)
    assert torch.equal(refit.history, again.history) and torch.equal(refit.target, again.target)
    assert leaked.refit_windows().target.max() < 1e5


def test_refit_setting(monthly_frame: Callable[..., pd.DataFrame]) -> None:
    module = datamodule(monthly_frame())
    untrained = GlobalForecaster(**module.model_kwargs(), hidden=8, n_blocks=1, n_members=1)
    assert module.refit_share() > 0.05
    assert not should_refit("auto", module, untrained)  # nothing a Trainer fitted: nothing to imitate
    assert not should_refit(False, module, untrained)
    with pytest.raises(ConfigError, match="task.refit='sometimes'"):
        should_refit("sometimes", module, untrained)


def test_selection_rules() -> None:
    scores = {
        ("network",): 1.072, ("exponential_smoothing",): 1.026, ("theta",): 1.125,
        ("network", "exponential_smoothing"): 1.007, ("network", "exponential_smoothing", "theta"): 1.021,
        ("network", "seasonal_naive", "exponential_smoothing", "theta"): 1.07,
    }
    assert choose_subset(scores, 0.02, "combine") == ("network", "exponential_smoothing", "theta")
    assert choose_subset(scores, 0.02, "simplest") == ("exponential_smoothing",)
    far = {**scores, ("network", "exponential_smoothing", "theta"): 1.2}
    assert choose_subset(far, 0.02, "combine") == ("exponential_smoothing",)  # the mean is clearly worse: simplest
    assert resolve_selection("auto", has_covariates=False) == "combine"
    assert resolve_selection("auto", has_covariates=True) == "simplest"
    with pytest.raises(ConfigError, match="task.selection='best'"):
        resolve_selection("best", False)


def test_short_monthly_run_refits_and_its_bundle_serves_the_refit(monthly_frame: Callable[..., pd.DataFrame], tmp_path: Path) -> None:
    monthly_frame(3, 72).to_csv(tmp_path / "monthly.csv", index=False)
    result = run_lepton(
        ["run", "plugin=retail", "data.path=monthly.csv", "data.covariates=[]", f"task.horizon={HORIZON}", "data.input_size=24",
         "data.backtest_windows=2", "trainer.max_epochs=1", "trainer.limit_train_batches=3", "callbacks.progress_bar=null",
         "model.n_members=1", "model.hidden=16", "data.augment_copies=2"],
        tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    run_dir = latest_run(tmp_path, "retail", "sales_forecasting")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    champion = metrics["champion"]
    assert champion["network_refitted_before_test"] is True and champion["selected_on"] == "validation"
    assert champion["name"] in {"network", *(k for k in champion["validation_mase"])}
    assert metrics["data"]["bootstrapped copies per series"] == 2
    assert metrics["validation"]["monitor"] == "val_loss" and metrics["validation"]["selected"] == "last epoch"
    assert any("trained again" in note for note in metrics["notes"])
    # the bundle's network answers what the backtest scored as 'network' (the refit, not the first fit)
    bundle = load_bundle(run_dir / "bundle")
    frame = pd.read_csv(tmp_path / "monthly.csv")
    forecasts = pd.read_csv(run_dir / "forecasts.csv")
    column = "network" if "network" in forecasts.columns else "model"
    first = forecasts[forecasts["unique_id"] == "s0"]
    history = frame[(frame["unique_id"] == "s0") & (pd.to_datetime(frame["ds"]) < pd.to_datetime(first["ds"].min()))]
    module = bundle.predictor.module
    item = {"unique_id": "s0", "ds": history["ds"].tolist()[-24:], "y": history["y"].tolist()[-24:], "covariates": {}}
    inputs = bundle.predictor.preprocess([SimpleNamespace(**item)])
    with torch.no_grad():
        network = module(*inputs)[0, :, module.median_index].numpy()
    assert np.allclose(network, first[column].to_numpy(), rtol=1e-5, atol=1e-4)


def test_validation_summary_reports_the_last_value_without_a_selecting_checkpoint() -> None:
    from lepton_core.pipeline.run import _validation_summary

    ctx = SimpleNamespace(cfg=OmegaConf.create({"task": {"monitor": "val_loss", "monitor_mode": "min"}}))
    trainer = SimpleNamespace(checkpoint_callback=SimpleNamespace(best_model_score=None), callback_metrics={"val_loss": torch.tensor(0.25)})
    assert _validation_summary(trainer, ctx) == {"monitor": "val_loss", "mode": "min", "best": 0.25, "selected": "last epoch"}
    assert _validation_summary(SimpleNamespace(checkpoint_callback=None, callback_metrics={}), ctx) == {}


def test_an_option_a_constructor_refuses_is_one_error_line(tmp_path: Path) -> None:
    result = run_lepton(["run", "plugin=retail", "debug=smoke", "data.augment_copies=many"], tmp_path)
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert result.returncode == 2
    # Hydra's own "Error executing job with overrides" line is not printed above it
    assert lines == ["error: data.augment_copies='many' must be auto or a whole number >= 0. Fix: use auto, 0 (off) or e.g. 10."]
