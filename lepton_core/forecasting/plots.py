"""Report plot of a few series: recent history, actual future, the model's median and interval, baselines."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lepton_core.hooks.specs import Figure, RunContext
from lepton_core.report.figures import new_figure, save_figure

__all__ = ["forecast_plot"]


def forecast_plot(ctx: RunContext, datamodule: Any, run: Any, levels: Sequence[float], count: int = 4) -> Figure:
    """One panel per series (evenly picked among all) at the last-horizon origin ``run``."""
    series = datamodule.series
    picks = np.unique(np.linspace(0, len(series.ids) - 1, num=min(count, len(series.ids))).astype(int))
    fig, axes = new_figure(10, 2.4 * len(picks))
    fig.clear()
    axes = fig.subplots(len(picks), 1, squeeze=False)[:, 0]
    context = max(3 * datamodule.horizon, datamodule.input_size)
    for ax, i in zip(axes, picks):
        origin = int(run.origins[i])
        stamps = series.timestamps(i)
        past = slice(max(0, origin - context), origin)
        future = stamps[origin : origin + datamodule.horizon]
        ax.plot(stamps[past], series.values[i][past], color="black", lw=1, label="history")
        ax.plot(future, run.actual[i], color="black", lw=1, ls=":", label="actual")
        if run.quantiles is not None:
            ax.fill_between(
                future, run.quantiles[i, :, 0], run.quantiles[i, :, -1], color="tab:blue", alpha=0.25,
                label=f"model {levels[0]:g}-{levels[-1]:g}",
            )
        for name, point in run.points.items():
            style = {"color": "tab:blue", "lw": 1.6} if name == "model" else {"lw": 1, "ls": "--"}
            ax.plot(future, point[i], label=name, **style)
        ax.set_title(f"series {series.ids[i]}", fontsize=9)
        ax.tick_params(labelsize=7)
    axes[0].legend(fontsize=7, ncol=3, loc="upper left")
    return save_figure(
        fig, ctx, "forecasts", "Forecasts on the last horizon",
        "Recent history (solid), actual future (dotted), model median with its quantile interval, and the baselines.",
    )
