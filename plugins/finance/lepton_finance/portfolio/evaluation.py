"""The walk-forward backtest of the model and the baselines on the test span: metrics, plots, tables, notes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from lepton_core import Evaluation, Figure, RunContext, Table
from lepton_core.atomic import atomic_write_text
from lepton_core.errors import ConfigError
from lepton_core.report.figures import new_figure, save_figure
from lepton_finance.portfolio.backtest import BacktestResult, performance, run_backtest, wealth_path
from lepton_finance.portfolio.forecast import ModelAllocator
from lepton_finance.portfolio.optimiser import Optimiser, RiskProfile, risk_profiles

__all__ = ["METRIC_DIRECTIONS", "check_profiles", "evaluate_portfolio", "selected_profile"]

# volatility is what the risk profile chooses, not a score: it is reported and never compared
METRIC_DIRECTIONS = {
    "sharpe": True, "annual_return": True, "max_drawdown": False, "turnover": False, "annual_costs": False,
    "final_wealth": True, "forecast_nll": False, "return_ic": True,
}


def selected_profile(task_cfg: Any, name: str | None = None) -> tuple[RiskProfile, dict[str, RiskProfile]]:
    """The profile ``name`` (default ``task.risk_profile``) and every profile of the config."""
    profiles = risk_profiles(task_cfg.get("risk_profiles") or {})
    chosen = str(name or task_cfg.get("risk_profile"))
    if chosen not in profiles:
        raise ConfigError(f"task.risk_profile={chosen} is not a defined profile", f"use one of {', '.join(profiles)}")
    return profiles[chosen], profiles


def check_profiles(task_cfg: Any, n_assets: int) -> None:
    """Every risk profile, the selected one and the cost are valid for ``n_assets`` (before training, not after)."""
    _, profiles = selected_profile(task_cfg)
    for profile in profiles.values():
        Optimiser(n_assets, profile, float(task_cfg.get("cost_bps", 10.0)), 1)


def _backtest(contender: Any, datamodule: Any, profile: RiskProfile, cost_bps: float) -> tuple[BacktestResult, int]:
    optimiser = Optimiser(len(datamodule.assets), profile, cost_bps, datamodule.horizon)
    result = run_backtest(
        contender, datamodule.log_returns, datamodule.simple_returns, datamodule.test_ends(),
        len(datamodule.simple_returns) - 1, optimiser, cost_bps,
    )
    return result, optimiser.failures


def forecast_scores(contender: Any, datamodule: Any) -> dict[str, float]:
    """Gaussian NLL of the realised next-horizon log return per asset, and the mean rank IC of the expected return."""
    from scipy.stats import spearmanr

    ends, h, logs = datamodule.test_ends()[:-1], datamodule.horizon, datamodule.log_returns
    nll, ic = [], []
    for end in ends:
        mean, covariance = contender.forecast(logs, int(end))
        variance = np.diag(covariance) * h
        centre = (mean - np.diag(covariance) / 2) * h
        realised = logs[end + 1 : end + 1 + h].sum(axis=0)
        nll.append(float(np.mean(0.5 * (np.log(2 * np.pi * variance) + (realised - centre) ** 2 / variance))))
        if np.ptp(mean) > 0:
            ic.append(float(spearmanr(mean, realised).statistic))
    return {"forecast_nll": float(np.mean(nll)), "return_ic": float(np.mean(ic)) if ic else 0.0}


def evaluate_portfolio(ctx: RunContext, datamodule: Any, model: Any, baselines: Sequence[Any]) -> Evaluation:
    """Backtest every contender under the run's risk profile; the model also under every other profile."""
    task = ctx.cfg.task
    profile, profiles = selected_profile(task)
    cost_bps, per_year = float(task.get("cost_bps", 10.0)), int(task.get("periods_per_year", 252))
    contenders: list[Any] = ([ModelAllocator(model.net, datamodule.settings)] if model is not None else []) + list(baselines)
    results: dict[str, BacktestResult] = {}
    metrics: dict[str, dict[str, float]] = {}
    failures: dict[str, int] = {}
    for contender in contenders:
        results[contender.name], failures[contender.name] = _backtest(contender, datamodule, profile, cost_bps)
        metrics[contender.name] = performance(results[contender.name], per_year)
        if hasattr(contender, "forecast"):
            metrics[contender.name].update(forecast_scores(contender, datamodule))
    tables = [_backtest_table(metrics, profile, cost_bps)]
    if model is not None:
        by_profile = {name: performance(_backtest(contenders[0], datamodule, p, cost_bps)[0], per_year)
                      for name, p in profiles.items() if name != profile.name}
        tables.append(_profile_table({profile.name: metrics["model"], **by_profile}, profiles))
        tables.append(_allocation_table(datamodule, results["model"]))
    _write_returns(ctx, datamodule, results)
    dates = datamodule.dates()
    figures = [_wealth_plot(ctx, dates, results), _drawdown_plot(ctx, dates, results)]
    if model is not None:
        figures.append(_weights_plot(ctx, dates, datamodule.assets, results["model"]))
    return Evaluation(
        metrics=metrics,
        primary_metric="sharpe",
        greater_is_better=True,
        metric_directions=METRIC_DIRECTIONS,
        figures=tuple(figures),
        tables=tuple(tables),
        notes=tuple(_notes(metrics, results, failures, profile, cost_bps, per_year)),
    )


def _backtest_table(metrics: Mapping[str, Mapping[str, float]], profile: RiskProfile, cost_bps: float) -> Table:
    rows = tuple(
        (name, f"{m['sharpe']:.2f}", f"{m['annual_return']:.1%}", f"{m['annual_volatility']:.1%}",
         f"{m['max_drawdown']:.1%}", f"{m['turnover']:.2f}", f"{m['annual_costs']:.2%}", f"{m['final_wealth']:.3f}")
        for name, m in metrics.items()
    )
    return Table(
        title=f"Walk-forward backtest (risk profile '{profile.name}', costs {cost_bps:g} bps of turnover)",
        columns=("contender", "Sharpe", "annual return", "annual volatility", "max drawdown", "turnover / year",
                 "costs / year", "final wealth"),
        rows=rows,
        caption="Net of costs. Turnover: one-way sum of |weight changes| per year (the initial purchase included).",
    )


def _profile_table(by_profile: Mapping[str, Mapping[str, float]], profiles: Mapping[str, RiskProfile]) -> Table:
    rows = tuple(
        (name, f"{profiles[name].risk_aversion:g}", f"{profiles[name].max_weight:.0%}", f"{m['sharpe']:.2f}",
         f"{m['annual_return']:.1%}", f"{m['annual_volatility']:.1%}", f"{m['max_drawdown']:.1%}", f"{m['turnover']:.2f}")
        for name, m in sorted(by_profile.items(), key=lambda item: -profiles[item[0]].risk_aversion)
    )
    return Table(
        title="The model under each risk profile (same forecasts, same backtest)",
        columns=("profile", "risk aversion", "cap per asset", "Sharpe", "annual return", "annual volatility",
                 "max drawdown", "turnover / year"),
        rows=rows,
        caption="A predict or serve request picks its profile (risk_profile); the run's own profile is task.risk_profile.",
    )


def _allocation_table(datamodule: Any, result: BacktestResult) -> Table:
    last = result.weights[-1]
    order = np.argsort(-last)
    date = datamodule.dates()[int(result.rebalance_ends[-1])].date()
    return Table(
        title=f"The model's last allocation of the backtest ({date})",
        columns=("asset", "weight"),
        rows=tuple((datamodule.assets[i], f"{last[i]:.1%}") for i in order if last[i] >= 0.005),
        caption="Assets under 0.5% are left out.",
    )


def _write_returns(ctx: RunContext, datamodule: Any, results: Mapping[str, BacktestResult]) -> None:
    """backtest_returns.csv in the run directory: the net return of each contender per backtest date."""
    import pandas as pd

    first = next(iter(results.values()))
    frame = pd.DataFrame({name: r.returns for name, r in results.items()})
    frame.insert(0, "date", datamodule.dates()[first.period_index].strftime("%Y-%m-%d"))
    atomic_write_text(ctx.run_dir / "backtest_returns.csv", frame.to_csv(index=False, float_format="%.8g"))


def _wealth_plot(ctx: RunContext, dates: Any, results: Mapping[str, BacktestResult]) -> Figure:
    fig, ax = new_figure(6.5, 4)
    for name, result in results.items():
        ax.plot(dates[result.period_index], wealth_path(result), label=name, lw=1.8 if name == "model" else 1.1)
    ax.set(ylabel="wealth (start = 1)", title="Cumulative wealth, net of costs")
    ax.legend(loc="best")
    fig.autofmt_xdate()
    return save_figure(fig, ctx, "wealth", "Cumulative wealth", "Walk-forward on the test span: every contender "
                       "rebalances on the same dates and pays the same cost per unit of turnover.")


def _drawdown_plot(ctx: RunContext, dates: Any, results: Mapping[str, BacktestResult]) -> Figure:
    fig, ax = new_figure(6.5, 3.2)
    for name, result in results.items():
        wealth = wealth_path(result)
        ax.plot(dates[result.period_index], -(1 - wealth / np.maximum.accumulate(wealth)), label=name)
    ax.set(ylabel="drawdown", title="Drawdown from the running peak")
    ax.legend(loc="lower left")
    fig.autofmt_xdate()
    return save_figure(fig, ctx, "drawdown", "Drawdown", "Fall of wealth from its running maximum.")


def _weights_plot(ctx: RunContext, dates: Any, assets: Sequence[str], result: BacktestResult) -> Figure:
    fig, ax = new_figure(7, 4)
    import matplotlib

    colours = matplotlib.colormaps["turbo"](np.linspace(0.05, 0.95, len(assets)))  # tab10 would repeat colours
    ax.stackplot(dates[result.rebalance_ends], result.weights.T, labels=assets, colors=colours, step="post")
    ax.set(ylim=(0, 1), ylabel="weight", title="Model weights at each rebalance")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=6, ncol=1 + len(assets) // 16)
    fig.autofmt_xdate()
    return save_figure(fig, ctx, "weights", "Weights over time", "Target weights set at each rebalance (stacked).")


def _notes(
    metrics: Mapping[str, Mapping[str, float]], results: Mapping[str, BacktestResult], failures: Mapping[str, int],
    profile: RiskProfile, cost_bps: float, per_year: int,
) -> list[str]:
    best = max(metrics, key=lambda name: metrics[name]["sharpe"])
    years = len(next(iter(results.values())).returns) / per_year
    notes = [
        (f"Best Sharpe on the backtest: '{best}' ({metrics[best]['sharpe']:.2f}); profile '{profile.name}' "
        f"(risk aversion {profile.risk_aversion:g}, cap {profile.max_weight:.0%}), costs {cost_bps:g} bps."),
        (f"One path of {years:.1f} years: a Sharpe ratio estimated on it has a standard error of about "
        f"{np.sqrt((1 + 0.5 * metrics[best]['sharpe'] ** 2) / max(years, 1e-9)):.2f}; differences smaller than "
        "that are not evidence either way."),
    ]
    if "model" in metrics and "forecast_nll" in metrics["model"] and "mean_variance" in metrics:
        m, b = metrics["model"], metrics["mean_variance"]
        notes.append(
            f"Forecasts on the backtest dates: the network's NLL {m['forecast_nll']:.3f} vs sample estimates "
            f"{b['forecast_nll']:.3f} (lower is better); rank IC of expected returns {m['return_ic']:.3f} vs {b['return_ic']:.3f}."
        )
    failed = {name: n for name, n in failures.items() if n}
    if failed:
        notes.append(f"The optimiser did not solve {failed} time(s); those rebalances kept the previous weights.")
    return notes
