"""Batch scoring throughput: `lepton predict --engine spark` on local[N] beside single-process `lepton predict`.

Trains a finance credit-scoring bundle (debug=smoke; or pass --bundle), writes ``--rows`` generated
applications to Parquet (eight or more row groups, so Spark splits the file between its cores), then
scores the same file with the default engine (one process) and with the Spark engine on a warm
local[N] session (JVM start timed apart), and prints rows/s side by side with the ratio. Both write
Parquet; the first 2,000 predictions of both are compared.

    .venv/bin/python benchmarks/spark_predict.py [--rows 200000] [--master 'local[2]'] [--bundle DIR]
"""

from __future__ import annotations

import argparse
import glob
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from lepton_core.deploy.batch import predict_file
from lepton_core.testing.cli import latest_run, run_lepton


def _bundle(work: Path) -> Path:
    proc = run_lepton(["run", "plugin=finance", "task=credit_scoring", "debug=smoke"], work, timeout=900)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-2000:])
    return latest_run(work, "finance", "credit_scoring") / "bundle"


def main() -> None:
    """Score one generated table with both engines and print rows/s and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--chunk-size", type=int, default=4096)
    parser.add_argument("--bundle", type=Path, default=None)
    args = parser.parse_args()

    from lepton_finance.demo import DEMOS

    from lepton_core.spark.predict import predict_spark
    from lepton_core.spark.session import get_session

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        bundle = args.bundle or _bundle(work)
        table = work / "applications.parquet"
        DEMOS["credit"][1](n_rows=args.rows, seed=7).to_parquet(
            table, row_group_size=max(1000, min(50_000, args.rows // 8))
        )

        start = time.perf_counter()
        spark = get_session(args.master)
        spark.range(1).count()
        jvm_seconds = time.perf_counter() - start

        local = predict_file(
            bundle, table, work / "local.parquet", chunk_size=args.chunk_size, progress=False
        )
        distributed = predict_spark(bundle, str(table), str(work / "spark"), chunk_size=args.chunk_size)

        expected = pd.read_parquet(work / "local.parquet").head(2000)
        got = pd.concat(
            [pd.read_parquet(f) for f in sorted(glob.glob(str(work / "spark" / "part-*.parquet")))]
        ).head(2000)
        same = bool(
            (got["decision"].to_numpy() == expected["decision"].to_numpy()).all()
            and np.allclose(got["probability"], expected["probability"], atol=1e-6, rtol=0)
        )
        spark.stop()

    local_rate, spark_rate = local.rows / local.seconds, distributed.rows / distributed.seconds
    print(f"{args.rows:,} credit applications (finance bundle, reason codes on), chunk {args.chunk_size}")
    print("| engine | rows | seconds | rows/s | vs lepton predict |")
    print("|---|---:|---:|---:|---:|")
    print(
        f"| lepton predict (one process) | {local.rows:,} | {local.seconds:.1f} | {local_rate:,.0f} | 1.00 |"
    )
    print(
        f"| --engine spark, {args.master} ({distributed.partitions} partitions, {distributed.bundle_loads} bundle loads) "
        f"| {distributed.rows:,} | {distributed.seconds:.1f} | {spark_rate:,.0f} | {spark_rate / local_rate:.2f} |"
    )
    print(
        f"Spark session start (JVM), not counted above: {jvm_seconds:.1f} s; first 2,000 rows equal: {same}"
    )


if __name__ == "__main__":
    main()
