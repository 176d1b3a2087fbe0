"""Forecast quality of the retail plugin's global forecaster vs seasonal naive and exponential smoothing.

Two data sets, each run through the real CLI (``lepton run plugin=retail ...``), as a user would:

- ``demo``: the default generated store x item daily sales (50 series, horizon 14, price/promo covariates);
- ``monthly``: real monthly series shipped inside statsmodels (offline), 257-450 points each:
  CO2 at Mauna Loa (weekly, averaged per month, last 450 months), euro-area electrical equipment orders
  (elec_equip, 257), El Nino sea surface temperatures (last 450 months) and Schwert's US unemployment
  rate (first 450 months); horizon 12, input 36 months, no covariates.

It prints MASE (last horizon and rolling-origin backtest) of every contender and the model / seasonal
naive ratio (< 1: the model wins), plus the run's wall time. ``--quick`` runs a smaller demo and fewer
epochs (a smoke check, not a quality figure). ``--only demo|monthly`` runs one data set.

    .venv/bin/python benchmarks/retail_forecast_quality.py [--quick] [--only monthly]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import pandas as pd

from lepton_core.testing.cli import latest_run, run_lepton

STATSMODELS_RESULTS = "statsmodels.tsa.tests.results"


def monthly_series() -> pd.DataFrame:
    """Four real monthly series from statsmodels' bundled data, in the long format."""
    import importlib.resources

    import statsmodels.api as sm

    co2 = sm.datasets.co2.load_pandas().data["co2"].resample("MS").mean().interpolate().iloc[-450:]
    elec = pd.read_csv(
        importlib.resources.files("statsmodels.datasets.elec_equip").joinpath("elec_equip.csv"), index_col=0
    ).iloc[:, 0]
    elec.index = pd.to_datetime(elec.index, format="%b-%d-%Y")
    nino = sm.datasets.elnino.load_pandas().data.set_index("YEAR").stack()
    nino.index = pd.date_range("1950-01-01", periods=len(nino), freq="MS")
    nino = nino.iloc[-450:]
    unemployment = pd.read_csv(importlib.resources.files(STATSMODELS_RESULTS).joinpath("UN.csv")).iloc[:450, 0]
    unemployment.index = pd.date_range("1948-01-01", periods=len(unemployment), freq="MS")
    parts = {"co2": co2, "elec_equip": elec, "elnino": nino, "unemployment": unemployment}
    return pd.concat(
        [pd.DataFrame({"unique_id": name, "ds": s.index, "y": s.to_numpy(float)}) for name, s in parts.items()],
        ignore_index=True,
    )


def run(name: str, args: list[str], workdir: Path) -> dict[str, dict[str, float]]:
    """One CLI run; returns metrics.json's metrics and prints a comparison."""
    start = time.perf_counter()
    done = run_lepton(["run", "plugin=retail", "task=sales_forecasting", "callbacks.progress_bar=null", *args], workdir)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{name}: run failed\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    metrics = json.loads((latest_run(workdir, "retail", "sales_forecasting") / "metrics.json").read_text())["metrics"]
    naive = metrics["seasonal_naive"]
    print(f"\n== {name}  ({seconds:.0f} s wall, the whole run)")
    print(f"{'contender':<24}{'mase':>9}{'backtest_mase':>15}{'wape':>9}{'vs naive (mase)':>17}")
    for contender, m in metrics.items():
        ratio = m["mase"] / naive["mase"]
        print(f"{contender:<24}{m['mase']:>9.3f}{m['backtest_mase']:>15.3f}{m['wape']:>9.3f}{ratio:>17.2f}")
    if "coverage_80" in metrics["model"]:
        print(f"model 0.1-0.9 interval coverage: {metrics['model']['coverage_80']:.1%} (nominal 80%)")
    verdict = "beats" if metrics["model"]["backtest_mase"] < naive["backtest_mase"] else "does NOT beat"
    print(f"model {verdict} seasonal naive on backtest MASE")
    return metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small demo and few epochs (smoke check)")
    parser.add_argument("--only", choices=("demo", "monthly"), help="run one data set")
    options = parser.parse_args()
    quick = ["trainer.max_epochs=2", "data.demo.n_stores=2", "data.demo.n_items=4"] if options.quick else []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if options.only in (None, "demo"):
            run("demo: generated store x item daily sales", quick, workdir)
        if options.only in (None, "monthly"):
            path = workdir / "monthly.csv"
            frame = monthly_series()
            frame.to_csv(path, index=False)
            lengths = frame.groupby("unique_id").size().to_dict()
            print(f"\nmonthly series: {lengths}")
            run(
                "monthly: real series from statsmodels",
                [f"data.path={path}", "data.covariates=[]", "task.horizon=12", "data.input_size=36",
                 "data.missing=interpolate", "model.nonnegative=false",
                 *(["trainer.max_epochs=2"] if options.quick else [])],
                workdir,
            )


if __name__ == "__main__":
    main()
