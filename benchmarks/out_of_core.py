"""Peak memory of the streamed (out-of-core) tabular path beside the in-memory path, on a generated Parquet table.

    python benchmarks/out_of_core.py                 # 20M rows x 19 columns, about 2.7 GB of Parquet
    python benchmarks/out_of_core.py --rows 2000000  # smaller
    python benchmarks/out_of_core.py --quick         # 1M rows, a smoke check of the script

Each measurement runs in a fresh process and reports its peak RSS (ru_maxrss): TabularDataModule.setup()
plus one full pass over the training loader. The streamed path runs on the whole table and on a subset;
the in-memory path runs on the subset only (on the whole table it would need several times the table's
size in memory) and its cost per row gives the estimate for the whole table. Figures are ratios.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

N_NUMERIC, CATEGORIES = 16, {"region": 40, "product": 400}
CHUNK_ROWS = 500_000


def generate(path: Path, rows: int, seed: int = 0) -> None:
    """Write ``rows`` rows in chunks (bounded memory): numerics, two categoricals, a regression target."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    weights = rng.normal(size=N_NUMERIC)
    writer = None
    try:
        for start in range(0, rows, CHUNK_ROWS):
            n = min(CHUNK_ROWS, rows - start)
            x = rng.normal(size=(n, N_NUMERIC))
            columns = {f"x{i}": x[:, i] for i in range(N_NUMERIC)}
            for name, k in CATEGORIES.items():
                codes = rng.integers(0, k, size=n)
                columns[name] = pa.DictionaryArray.from_arrays(
                    codes, pa.array([f"{name}_{j}" for j in range(k)])
                )
            columns["y"] = x @ weights + 0.1 * rng.normal(size=n)
            table = pa.table(columns)
            writer = writer or pq.ParquetWriter(path, table.schema)
            writer.write_table(table, row_group_size=100_000)
    finally:
        if writer is not None:
            writer.close()


WORKER = """
import json, resource, sys, time
import pyarrow.parquet, torch
from lepton_core.tabular.datamodule import TabularDataModule
path, mode = sys.argv[1], sys.argv[2]
start, rows = time.perf_counter(), 0
if mode != "imports":
    dm = TabularDataModule(path=path, target="y", batch_size=4096, streaming=mode == "streamed",
                           streaming_sample_rows=50_000)
    dm.setup("fit")
    rows = sum(int(batch[0].shape[0]) for batch in dm.train_dataloader())
print(json.dumps({"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "train_rows": rows, "seconds": time.perf_counter() - start}))
"""


def measure(path: Path, mode: str) -> dict[str, float]:
    """Peak RSS, rows trained and wall time of setup + one epoch (mode in-memory/streamed), in a fresh process."""
    proc = subprocess.run(
        [sys.executable, "-c", WORKER, str(path), mode], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"worker failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000_000, help="rows of the generated table")
    parser.add_argument("--subset-rows", type=int, default=None, help="rows of the subset (default rows/10)")
    parser.add_argument("--quick", action="store_true", help="1M rows (a smoke check)")
    parser.add_argument(
        "--dir", type=Path, default=None, help="where to write the tables (default: a temp dir)"
    )
    args = parser.parse_args()
    rows = 1_000_000 if args.quick else args.rows
    subset = args.subset_rows or max(10_000, rows // 10)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        full, part = Path(tmp) / "full.parquet", Path(tmp) / "subset.parquet"
        start = time.perf_counter()
        generate(full, rows)
        generate(part, subset)
        size_gb = full.stat().st_size / 1e9
        print(
            f"generated {rows:,} rows ({size_gb:.2f} GB of Parquet) and a {subset:,}-row subset "
            f"in {time.perf_counter() - start:.0f} s"
        )
        results = {
            ("imports only", 0): measure(part, "imports"),
            ("in-memory", subset): measure(part, "in-memory"),
            ("streamed", subset): measure(part, "streamed"),
            ("streamed", rows): measure(full, "streamed"),
        }
    print(f"\n{'path':<13} {'rows':>12} {'peak RSS MB':>12} {'train rows':>12} {'s':>7}")
    for (kind, n), r in results.items():
        print(f"{kind:<13} {n:>12,} {r['peak_rss_mb']:>12.0f} {r['train_rows']:>12,} {r['seconds']:>7.1f}")
    imports, in_memory, streamed_small, streamed_full = (r["peak_rss_mb"] for r in results.values())
    estimate = imports + (in_memory - imports) * rows / subset
    print(f"\nabove the {imports:,.0f} MB of imports (torch, lightning, pandas, pyarrow):")
    print(
        f"  streamed, whole table vs subset ({rows // subset}x the rows): "
        f"{streamed_full - imports:,.0f} MB vs {streamed_small - imports:,.0f} MB"
    )
    print(
        f"  in-memory, subset: {in_memory - imports:,.0f} MB; scaled to the whole table: {estimate - imports:,.0f} MB"
    )
    print(
        f"peak RSS on the whole table ({size_gb * 1000:,.0f} MB of Parquet): streamed {streamed_full:,.0f} MB, "
        f"in-memory about {estimate:,.0f} MB = {estimate / streamed_full:.1f}x"
    )


if __name__ == "__main__":
    main()
