"""Forecast quality of the retail forecasting task against seasonal naive, exponential smoothing and theta.

Benchmark-only dependency: ``pmdarima`` (``pip install pmdarima``), for the classic monthly series it ships
on disk (airline passengers, Australian wine sales); everything else comes from statsmodels. Offline.

Each data set runs through the real CLI (``lepton run plugin=retail ...``), as a user would, with
``data.covariates=[] task.horizon=12`` for the monthly sets and nothing tuned on the test split:

- ``airline``: Box-Jenkins airline passengers alone (144 months, pmdarima);
- ``short``: six short real monthly series, one global run: airline passengers (144), Australian wine
  sales (wineind, 176; pmdarima), euro-area electrical equipment orders (elec_equip, 257), and the last
  144 months of CO2 at Mauna Loa, El Nino sea temperatures and Schwert's US unemployment (statsmodels);
- ``long``: CO2, elec_equip, El Nino and unemployment with up to 450 months each;
- ``demo``: the default generated store x item daily sales (horizon 14, price / promo covariates).

For every run it prints each contender's MASE and sMAPE on the last horizon and the rolling-origin
backtest mean (aggregated), the per-series last-horizon MASE and sMAPE side by side, and the
contender / model ratio. ``--quick`` trains 2 epochs (a smoke check, not a quality figure);
``--only NAME`` runs one data set; further arguments are config overrides for every run (``task.refit=true``).

    .venv/bin/python benchmarks/retail_forecast_quality.py [--quick] [--only airline|short|long|demo] [OVERRIDE ...]
"""

from __future__ import annotations

import argparse
import importlib.resources
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from lepton_core.forecasting.metrics import forecast_metrics
from lepton_core.testing.cli import latest_run, run_lepton

STATSMODELS_RESULTS = "statsmodels.tsa.tests.results"
MONTHLY = ["data.covariates=[]", "task.horizon=12"]


def _monthly(values: np.ndarray, start: str) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=float), index=pd.date_range(start, periods=len(values), freq="MS"))


def statsmodels_series() -> dict[str, pd.Series]:
    """CO2, elec_equip, El Nino and unemployment: real monthly series shipped with statsmodels."""
    import statsmodels.api as sm

    co2 = sm.datasets.co2.load_pandas().data["co2"].resample("MS").mean().interpolate()
    elec = pd.read_csv(
        importlib.resources.files("statsmodels.datasets.elec_equip").joinpath("elec_equip.csv"), index_col=0
    ).iloc[:, 0]
    elec.index = pd.to_datetime(elec.index, format="%b-%d-%Y")
    nino = sm.datasets.elnino.load_pandas().data.set_index("YEAR").stack()
    nino = _monthly(nino.to_numpy(), "1950-01-01")
    unemployment = pd.read_csv(importlib.resources.files(STATSMODELS_RESULTS).joinpath("UN.csv")).iloc[:, 0]
    return {"co2": co2, "elec_equip": elec.astype(float), "elnino": nino, "unemployment": _monthly(unemployment.to_numpy(), "1948-01-01")}


def pmdarima_series() -> dict[str, pd.Series]:
    """Airline passengers (1949-1960) and Australian wine sales (1980-1994), shipped inside pmdarima."""
    try:
        from pmdarima import datasets
    except ImportError:
        raise SystemExit("this benchmark needs pmdarima for its classic monthly series: pip install pmdarima") from None
    return {
        "airline": _monthly(datasets.load_airpassengers(), "1949-01-01"),
        "wineind": _monthly(datasets.load_wineind(), "1980-01-01"),
    }


def long_format(parts: dict[str, pd.Series]) -> pd.DataFrame:
    """unique_id, ds, y rows of named series."""
    return pd.concat(
        [pd.DataFrame({"unique_id": name, "ds": s.index, "y": s.to_numpy(float)}) for name, s in parts.items()],
        ignore_index=True,
    )


def data_sets() -> dict[str, pd.DataFrame]:
    """The monthly data sets of the benchmark."""
    classic, statsmodels = pmdarima_series(), statsmodels_series()
    short = {**classic, "elec_equip": statsmodels["elec_equip"]}
    short.update({name: statsmodels[name].iloc[-144:] for name in ("co2", "elnino", "unemployment")})
    return {
        "airline": long_format({"airline": classic["airline"]}),
        "short": long_format(short),
        "long": long_format({name: s.iloc[:450] if name == "unemployment" else s.iloc[-450:] for name, s in statsmodels.items()}),
    }


def per_series(run_dir: Path, frame: pd.DataFrame | None, season: int) -> pd.DataFrame:
    """Last-horizon MASE and sMAPE of every contender per series, from the run's forecasts.csv."""
    forecasts = pd.read_csv(run_dir / "forecasts.csv", parse_dates=["ds"])
    contenders = [c for c in forecasts.columns if c not in ("unique_id", "ds", "y") and "_q" not in c]
    rows = []
    for uid, group in forecasts.groupby("unique_id", sort=False):
        if frame is None:
            continue
        history = frame[(frame["unique_id"] == uid) & (pd.to_datetime(frame["ds"]) < group["ds"].min())]["y"].to_numpy(float)
        row = {"series": uid}
        for name in contenders:
            overall, _ = forecast_metrics(group["y"].to_numpy()[None], group[name].to_numpy()[None], [history], season)
            row[f"{name} mase"], row[f"{name} smape"] = overall["mase"], overall["smape"]
        rows.append(row)
    return pd.DataFrame(rows)


def run(name: str, args: list[str], workdir: Path, frame: pd.DataFrame | None = None, season: int = 12) -> dict[str, dict[str, float]]:
    """One CLI run; prints aggregated and per-series MASE / sMAPE of every contender side by side."""
    start = time.perf_counter()
    done = run_lepton(["run", "plugin=retail", "task=sales_forecasting", "callbacks.progress_bar=null", *args], workdir)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{name}: run failed\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    run_dir = latest_run(workdir, "retail", "sales_forecasting")
    written = json.loads((run_dir / "metrics.json").read_text())
    metrics = written["metrics"]
    model = metrics["model"]
    print(f"\n== {name}  ({seconds:.0f} s wall, the whole run)")
    champion = written.get("champion") or {}
    if champion:
        ranked = ", ".join(f"{k} {v:.3f}" for k, v in list(champion["validation_mase"].items())[:4])
        refit = "network refitted before the test" if champion.get("network_refitted_before_test") else "no refit"
        print(f"deployed: {champion['name']} ({refit}); validation MASE: {ranked}")
    print(f"{'contender':<24}{'mase':>8}{'bt_mase':>9}{'smape':>8}{'bt_smape':>10}{'bt_mase / model':>17}")
    for contender, m in metrics.items():
        ratio = m["backtest_mase"] / model["backtest_mase"]
        print(f"{contender:<24}{m['mase']:>8.3f}{m['backtest_mase']:>9.3f}{m['smape']:>8.2f}{m['backtest_smape']:>10.2f}{ratio:>17.2f}")
    if "coverage_80" in model:
        print(f"model 0.1-0.9 interval coverage: {model['coverage_80']:.1%} (nominal 80%)")
    table = per_series(run_dir, frame, season)
    if not table.empty:
        print("per series, last horizon:")
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    beaten = [c for c in metrics if c != "model" and metrics[c]["backtest_mase"] <= model["backtest_mase"]]
    print("model beats every baseline on backtest MASE" if not beaten else f"model does NOT beat {', '.join(beaten)} on backtest MASE")
    return metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 epochs and a small demo (smoke check)")
    parser.add_argument("--only", choices=("airline", "short", "long", "demo"), help="run one data set")
    parser.add_argument("overrides", nargs="*", help="config overrides for every run, e.g. task.refit=true")
    options = parser.parse_args()
    epochs = ["trainer.max_epochs=2"] if options.quick else []
    epochs += options.overrides
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for name, frame in data_sets().items():
            if options.only not in (None, name):
                continue
            path = workdir / f"{name}.csv"
            frame.to_csv(path, index=False)
            print(f"\n{name}: {frame.groupby('unique_id').size().to_dict()}")
            run(f"{name}: real monthly series", [f"data.path={path}", *MONTHLY, *epochs], workdir, frame)
        if options.only in (None, "demo"):
            quick = ["data.demo.n_stores=2", "data.demo.n_items=4"] if options.quick else []
            run("demo: generated store x item daily sales", [*quick, *epochs], workdir)


if __name__ == "__main__":
    main()
