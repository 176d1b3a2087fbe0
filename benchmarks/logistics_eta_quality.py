"""eta quality with default settings: the network beside the linear-distance and gradient-boosting baselines.

Two tables, each through the real CLI (`lepton run plugin=logistics ...`): the generated demo, and a harder
city table (~10k rows, mixed types: coordinates, a timestamp, 300 couriers, vehicle types, missing values).
Prints MAE per contender and the ratios the quality goal is stated in (network / gradient boosting <= 1.10,
network / linear < 1), plus P90 coverage.

    .venv/bin/python benchmarks/logistics_eta_quality.py [--rows 10000] [--quick] [--seed 42]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from lepton_core.testing.cli import latest_run, run_lepton
from lepton_logistics.eta.demo import generate_city_deliveries


def run_eta(out: Path, extra: list[str]) -> tuple[dict, float]:
    """One default eta run; (metrics, wall seconds)."""
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    process = run_lepton(["run", "plugin=logistics", "task=eta", "callbacks.progress_bar=null", *extra], out, timeout=3600)
    if process.returncode != 0:
        raise SystemExit(process.stdout[-2000:] + process.stderr[-2000:])
    return json.loads((latest_run(out, "logistics", "eta") / "metrics.json").read_text())["metrics"], time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10000, help="rows of the city table")
    parser.add_argument("--quick", action="store_true", help="2000-row city table and demo")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    rows = 2000 if args.quick else args.rows
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        city = root / "city_deliveries.csv"
        generate_city_deliveries(rows, seed=args.seed).to_csv(city, index=False)
        demo_rows = ["data.n_rows=2000"] if args.quick else []
        cases = {
            "demo (generated)": run_eta(root / "demo", [f"seed={args.seed}", *demo_rows]),
            f"city table ({rows} rows)": run_eta(
                root / "city", [f"seed={args.seed}", f"data.path={city}", "data.id_column=order_id"]
            ),
        }
    header = f"{'table':<24}{'net MAE':>9}{'GB MAE':>9}{'lin MAE':>9}{'net/GB':>8}{'net/lin':>8}{'net P90 cov':>12}{'GB P90 cov':>11}{'wall s':>8}"
    print(header)
    for name, (metrics, wall) in cases.items():
        net, gb, lin = (metrics[k] for k in ("model", "gradient_boosting", "linear_distance"))
        print(f"{name:<24}{net['mae']:>9.3f}{gb['mae']:>9.3f}{lin['mae']:>9.3f}{net['mae'] / gb['mae']:>8.3f}"
              f"{net['mae'] / lin['mae']:>8.3f}{net['p90_coverage']:>12.3f}{gb['p90_coverage']:>11.3f}{wall:>8.0f}")
    print("goal: net/GB <= 1.100 and net/lin < 1.000")


if __name__ == "__main__":
    main()
