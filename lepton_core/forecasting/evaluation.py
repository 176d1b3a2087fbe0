"""Last-horizon evaluation and rolling-origin backtest of a global forecaster beside per-series baselines.

:func:`evaluate_forecasts` is a whole ``lepton_evaluate`` for a task built on
:class:`~lepton_core.forecasting.datamodule.ForecastDataModule`. It first chooses the deployed forecaster
on the validation origins (:func:`~lepton_core.forecasting.combination.select_combination`: the
network, a statistical model, or a mean of several). On short data it then refits the network on everything
before the first test origin (:mod:`lepton_core.forecasting.refit`, ``task.refit``). Then at every
backtest origin (the network is trained once, on data before the first origin; statistical models
refit on each history) it forecasts every series, scores ``model`` (the deployed
forecaster), ``network`` (the network alone, when the deployed forecaster is not just the network)
and the baselines (:mod:`lepton_core.forecasting.metrics`), and returns an
``Evaluation`` whose metrics are those of the last horizon plus ``backtest_<metric>`` means over all
origins (``fitted``: the deployed ``combination`` and ``network``, for :func:`export_forecasts`), with a plot of history / forecast / interval for a few series, a per-series table, a backtest
table, and ``forecasts.csv`` (last-horizon quantiles) in the run directory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lepton_core.forecasting.combination import (
    NETWORK,
    ForecastCombination,
    combine_forecasts,
    resolve_selection,
    select_combination,
)
from lepton_core.forecasting.metrics import forecast_metrics
from lepton_core.forecasting.model import forecast_windows
from lepton_core.forecasting.plots import forecast_plot
from lepton_core.forecasting.refit import best_epoch_count, refit_network, should_refit
from lepton_core.forecasting.series import format_timestamp
from lepton_core.hooks.specs import Evaluation, Export, RunContext, Table

__all__ = ["OriginForecasts", "backtest", "evaluate_forecast_task", "evaluate_forecasts", "export_forecasts"]


@dataclass(frozen=True)
class OriginForecasts:
    """Forecasts of every contender for every series at one backtest origin."""

    origins: np.ndarray
    actual: np.ndarray
    histories: list[np.ndarray]
    points: dict[str, np.ndarray]
    quantiles: np.ndarray | None


def backtest(
    datamodule: Any, model: Any, baselines: Sequence[Any], combination: ForecastCombination | None = None
) -> list[OriginForecasts]:
    """Forecast all series at each backtest origin (last horizon first) with the model and every baseline.

    With a ``combination``, ``model`` is the combination (its quantiles too) and ``network`` the network alone.
    """
    results = []
    for k in range(datamodule.backtest_windows):
        origins = [o[k : k + 1] for o in datamodule.test_origins]
        batch = datamodule.windows(origins)
        histories = [y[: int(o[0])] for y, o in zip(datamodule.series.values, origins)]
        points: dict[str, np.ndarray] = {}
        quantiles = None
        if model is not None:
            quantiles = forecast_windows(model, batch.inputs())
            points["model"] = quantiles[..., model.median_index]
        for baseline in baselines:
            points[baseline.name] = np.asarray(baseline.predict(histories), dtype=float)
        if combination is not None and combination.members != (NETWORK,):
            points[NETWORK] = points["model"]
            quantiles = combine_forecasts(combination, quantiles, model.median_index, points)
            points["model"] = quantiles[..., model.median_index]
        results.append(
            OriginForecasts(np.array([int(o[0]) for o in origins]), batch.target.numpy().astype(float), histories, points, quantiles)
        )
    return results


def _point_metrics(
    run: OriginForecasts, point: np.ndarray, season: int, levels: Sequence[float]
) -> tuple[dict[str, float], list[dict[str, float]]]:
    """Metrics of a point forecast; its quantile loss treats it as the forecast of every quantile (no coverage)."""
    degenerate = np.repeat(point[..., None], len(levels), axis=-1)
    overall, rows = forecast_metrics(run.actual, point, run.histories, season, degenerate, levels)

    def drop(scores: dict[str, float]) -> dict[str, float]:
        return {k: v for k, v in scores.items() if not k.startswith("coverage")}

    return drop(overall), [drop(row) for row in rows]


def _keep(metrics: dict[str, float], names: Sequence[str] | None) -> dict[str, float]:
    if not names:
        return metrics
    return {k: v for k, v in metrics.items() if k in names or k.removeprefix("backtest_") in names or k.startswith("coverage") and "coverage" in names}


def evaluate_forecast_task(ctx: RunContext, datamodule: Any, model: Any, baselines: Sequence[Any]) -> Evaluation:
    """``evaluate_forecasts`` reporting the metrics of ``task.metrics``: what a forecasting task's ``task.evaluate`` names."""
    task = ctx.cfg.task
    return evaluate_forecasts(
        ctx,
        datamodule,
        model,
        baselines,
        metrics=task.get("metrics"),
        refit=task.get("refit", "auto"),
        selection=task.get("selection", "auto"),
    )


def export_forecasts(datamodule: Any, model: Any, evaluation: Evaluation) -> Export:
    """The bundle of a forecasting task: the network the backtest scored (the refit, if any) and the deployed combination."""
    network = evaluation.fitted.get("network", model)
    combination = evaluation.fitted.get("combination")
    return Export(
        module=network,
        state=datamodule.export_state(combination),
        input_example=datamodule.input_example(combination=combination),
    )


def evaluate_forecasts(
    ctx: RunContext,
    datamodule: Any,
    model: Any,
    baselines: Sequence[Any],
    metrics: Sequence[str] | None = None,
    primary_metric: str = "mase",
    plot_series: int = 4,
    table_rows: int = 12,
    selection_tolerance: float = 0.02,
    refit: bool | str = "auto",
    selection: str = "auto",
) -> Evaluation:
    """Score model and baselines on the last horizon and the backtest; ``metrics`` limits the names reported.

    ``selection``: auto / combine / simplest, and ``selection_tolerance``, how close to the best validation score
    the deployed candidate may be (:mod:`lepton_core.forecasting.combination`);
    ``refit``: auto / true / false, see :mod:`lepton_core.forecasting.refit`.
    """
    series = datamodule.series
    season = series.season_length
    levels = list(model.quantile_levels.tolist()) if model is not None else []
    selection = resolve_selection(selection, bool(series.covariate_names))
    combination = select_combination(datamodule, model, baselines, selection_tolerance, selection) if model is not None else None
    network = model
    if should_refit(refit, datamodule, model):
        network = refit_network(ctx, datamodule, model)
    runs = backtest(datamodule, network, baselines, combination)
    per_origin = []
    for run in runs:
        origin_scores = {}
        for name, point in run.points.items():
            if name == "model" or not levels:
                origin_scores[name] = forecast_metrics(run.actual, point, run.histories, season, run.quantiles, levels)
                continue
            origin_scores[name] = _point_metrics(run, point, season, levels)
        per_origin.append(origin_scores)
    contenders = list(runs[0].points)
    scores: dict[str, dict[str, float]] = {}
    for name in contenders:
        last = dict(per_origin[0][name][0])
        for metric in list(last):
            values = [origin[name][0][metric] for origin in per_origin]
            last[f"backtest_{metric}"] = float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
        scores[name] = _keep(last, metrics)

    figures = (
        forecast_plot(ctx, datamodule, runs[0], levels, count=plot_series),
    )
    tables = (
        _series_table(series.ids, per_origin[0], contenders, primary_metric, table_rows),
        _backtest_table(series, runs, per_origin, contenders, primary_metric),
        *((_selection_table(combination, _rule(selection, selection_tolerance)),) if combination is not None else ()),
    )
    _write_forecasts(ctx, datamodule, runs[0], levels)
    notes = _notes(datamodule, scores, levels, baselines)
    if combination is not None:
        notes.insert(0, _combination_note(combination))
    if network is not model:
        notes.insert(1, _refit_note(datamodule, model))
    return Evaluation(
        metrics=scores,
        primary_metric=primary_metric,
        greater_is_better=False,
        figures=figures,
        tables=tables,
        notes=tuple(notes),
        fitted={"combination": combination, "network": network} if model is not None else {},
        champion=_champion(combination, network is not model, selection, selection_tolerance) if combination is not None else {},
    )


def _rule(selection: str, tolerance: float) -> str:
    simplest = f"the simplest candidate within {tolerance:.0%} of the best validation MASE"
    if selection == "simplest":
        return simplest
    return f"the mean of the network and the statistical models but seasonal naive when within {tolerance:.0%} of the best validation MASE, else {simplest}"


def _champion(combination: ForecastCombination, refitted: bool, selection: str, tolerance: float) -> dict[str, Any]:
    return {
        "name": combination.label,
        "selected_on": "validation",
        "rule": _rule(selection, tolerance),
        "validation_mase": {name: round(float(score), 6) for name, score in sorted(combination.validation_mase.items(), key=lambda kv: kv[1])},
        "network_refitted_before_test": refitted,
    }


def _refit_note(datamodule: Any, model: Any) -> str:
    added = sum(refit - fit for fit, refit in zip(datamodule.fit_cutoffs, datamodule.refit_cutoffs))
    return (
        f"After the choice, the network was trained again for its best {best_epoch_count(model)} epoch(s) on every window "
        f"before the first test origin ({added} more real points, the validation span); that refit is what the "
        "backtest scores and the bundle serves (task.refit)."
    )


def _series_table(ids: Sequence[str], origin: dict[str, Any], contenders: list[str], metric: str, rows: int) -> Table:
    body = []
    for i, uid in enumerate(ids[:rows]):
        body.append((uid, *(round(origin[name][1][i].get(metric, float("nan")), 4) for name in contenders)))
    more = f" (first {rows} of {len(ids)} series)" if len(ids) > rows else ""
    return Table(
        title=f"Per-series {metric} on the last horizon",
        columns=("series", *contenders),
        rows=tuple(body),
        caption=f"Every series' score on its last horizon{more}; forecasts.csv in the run directory has them all.",
    )


def _backtest_table(series: Any, runs: list[OriginForecasts], per_origin: list[dict[str, Any]], contenders: list[str], metric: str) -> Table:
    body = []
    for k, (run, scores) in enumerate(zip(runs, per_origin)):
        start = format_timestamp(series.timestamps(0)[int(run.origins[0])])
        body.append((k, start, *(round(scores[name][0][metric], 4) for name in contenders)))
    return Table(
        title=f"Rolling-origin backtest ({metric})",
        columns=("origin", "first forecast step (series 1)", *contenders),
        rows=tuple(body),
        caption="Origin 0 is the last horizon; each earlier origin moves back by the backtest step. The model is trained once, before the first origin.",
    )


def _selection_table(combination: ForecastCombination, rule: str, rows: int = 8) -> Table:
    ranked = sorted(combination.validation_mase.items(), key=lambda kv: kv[1])
    return Table(
        title="Deployed forecaster, chosen on validation (mase)",
        columns=("candidate", "validation mase"),
        rows=tuple((name, round(score, 4)) for name, score in ranked[:rows]),
        caption="Mean MASE over the selection origins at the end of the training part (never the test origins); "
        f"the deployed candidate ({rule}), {combination.label}, is 'model' in every other table and what the bundle serves.",
    )


def _combination_note(combination: ForecastCombination) -> str:
    if combination.members == (NETWORK,):
        return "'model' is the network alone, chosen on the validation origins (the selection table has every candidate's score)."
    return (
        f"'model' is {combination.label} (chosen on the validation origins; 'network' is the network alone); "
        "its statistical members refit on each history, at predict time too, and its quantiles are the network's, "
        "recentred on the combined forecast."
    )


def _write_forecasts(ctx: RunContext, datamodule: Any, run: OriginForecasts, levels: Sequence[float]) -> None:
    from lepton_core.atomic import atomic_write_text

    series = datamodule.series
    frames = []
    for i, uid in enumerate(series.ids):
        stamps = series.timestamps(i)[int(run.origins[i]) : int(run.origins[i]) + datamodule.horizon]
        frame = pd.DataFrame({"unique_id": uid, "ds": stamps, "y": run.actual[i]})
        for name, point in run.points.items():
            frame[name] = point[i]
        if run.quantiles is not None:
            for j, level in enumerate(levels):
                frame[f"model_q{level:g}"] = run.quantiles[i, :, j]
        frames.append(frame)
    atomic_write_text(ctx.run_dir / "forecasts.csv", pd.concat(frames).to_csv(index=False))


def _notes(datamodule: Any, scores: dict[str, dict[str, float]], levels: Sequence[float], baselines: Sequence[Any]) -> list[str]:
    series = datamodule.series
    notes = []
    if levels:
        coverage = next((v for k, v in scores.get("model", {}).items() if k.startswith("coverage")), None)
        if coverage is not None:
            nominal = (levels[-1] - levels[0]) * 100
            notes.append(f"The {levels[0]:g}-{levels[-1]:g} quantile interval covers {coverage:.1%} of the last-horizon actuals (nominal {nominal:.0f}%).")
    if series.all_zero:
        notes.append(f"{len(series.all_zero)} all-zero series are forecast but left out of the overall MASE (zero scale).")
    if series.dropped:
        notes.append(f"{len(series.dropped)} series shorter than the horizon and backtest need were dropped: {', '.join(series.dropped[:5])}.")
    if series.filled_points:
        notes.append(f"{series.filled_points} missing points were filled by the data.missing={datamodule.missing} rule.")
    for baseline in baselines:
        if getattr(baseline, "fallbacks", 0):
            notes.append(f"{baseline.name} failed to fit {baseline.fallbacks} histories and used seasonal naive for them.")
    return notes
