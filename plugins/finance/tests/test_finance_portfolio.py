"""Portfolio task: price-table checks, a smoke run on a user's long-format table, predict on a CSV, serve requests."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest
from lepton_finance.portfolio.demo import price_table
from lepton_finance.portfolio.prices import PriceColumns, price_frame

from lepton_core.deploy.batch import predict_file
from lepton_core.errors import DataError
from lepton_core.testing import check_fit

SMOKE = ["data.window=20", "data.cov_window=40", "model.hidden=[16]"]


def _prices(n_assets: int = 8, n_days: int = 300) -> pd.DataFrame:
    return price_table(n_assets, n_days, seed=3)


def test_long_and_wide_tables_give_the_same_prices() -> None:
    wide = _prices(4, 30)
    long = wide.melt(id_vars="date", var_name="asset", value_name="price").sample(frac=1, random_state=0)
    a, b = price_frame(wide, PriceColumns()), price_frame(long, PriceColumns())
    pd.testing.assert_frame_equal(a, b[a.columns], check_names=False)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.rename(columns={"date": "day"}), r"no date column 'date'"),
        (lambda f: f.assign(tech_1=f["tech_1"].where(f.index != 5, -1.0)), r"'tech_1' has a non-positive price"),
        (lambda f: pd.concat([f, f.tail(1)]), r"duplicate dates"),
        (lambda f: f.assign(tech_1=f["tech_1"].astype(object).where(f.index != 3, "$12")), r"non-numeric prices \('\$12'\)"),
        (lambda f: f[["date", "tech_1"]], r"at least 2 are needed"),
        (lambda f: f.assign(tech_1=f["tech_1"].where((f.index < 5) | (f.index > 15))), r"missing price\(s\) in gaps"),
    ],
)
def test_bad_price_tables_fail_with_one_clear_error(change, message) -> None:
    with pytest.raises(DataError, match=message):
        price_frame(change(_prices(4, 40)), PriceColumns())


def test_run_on_a_long_table_then_predict_a_csv_and_serve(tmp_path: Path) -> None:
    wide = _prices()
    wide.melt(id_vars="date", var_name="asset", value_name="price").to_parquet(tmp_path / "prices.parquet")
    run_dir = check_fit("finance", "portfolio", tmp_path, [*SMOKE, f"data.path={tmp_path / 'prices.parquet'}"]).run_dir
    metrics = json.loads((run_dir / "metrics.json").read_text())["metrics"]
    assert set(metrics) == {"model", "equal_weight", "min_variance", "mean_variance"}
    assert {"sharpe", "max_drawdown", "turnover", "annual_costs"} <= set(metrics["model"])
    assert (run_dir / "backtest_returns.csv").is_file() and (run_dir / "figures" / "weights.png").is_file()

    wide.tail(150).to_csv(tmp_path / "recent.csv", index=False)  # what `lepton predict BUNDLE recent.csv` runs:
    assert predict_file(run_dir / "bundle", tmp_path / "recent.csv", tmp_path / "weights.jsonl", progress=False).rows == 1
    (answer,) = [json.loads(line) for line in (tmp_path / "weights.jsonl").read_text().splitlines()]
    assert answer["as_of"] == wide["date"].iloc[-1] and answer["risk_profile"] == "balanced"
    assert sum(answer["weights"].values()) == pytest.approx(1, abs=1e-4) and max(answer["weights"].values()) <= 0.25 + 1e-6

    from lepton_core.serve import ServerThread, build_app

    app, _ = build_app(run_dir / "bundle")
    rows = wide.tail(60).to_dict(orient="records")
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        deadline = time.monotonic() + 30
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        careful = client.post("/predict", json={"rows": rows, "risk_profile": "conservative"})
        assert careful.status_code == 200, careful.text
        assert max(careful.json()["weights"].values()) <= 0.15 + 1e-6
        unknown = client.post("/predict", json={"rows": rows, "risk_profile": "reckless"})
        assert unknown.status_code == 422 and "reckless" in unknown.text
        short = client.post("/predict", json={"rows": rows[:10]})
        assert short.status_code == 422 and "needs 41" in short.text
