"""Recommendation quality: BPR matrix factorisation vs popularity on generated interactions of growing popularity skew.

Each setting is a real CLI run (``lepton run plugin=retail task=recommendation``) on the demo generator
with ``data.demo.popularity_skew`` set; the stronger the skew, the better popularity does and the less
room taste leaves the model. Prints HR@10, NDCG@10 and the model / popularity ratio (> 1: the model wins).
``--quick``: fewer users and epochs (a smoke check, not a quality figure).

    .venv/bin/python benchmarks/retail_recommendation_quality.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from lepton_core.testing.cli import latest_run, run_lepton

SKEWS = (0.5, 1.0, 1.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="600 users, 200 items, 3 epochs")
    options = parser.parse_args()
    size = ["data.demo.n_users=600", "data.demo.n_items=200", "trainer.max_epochs=3"] if options.quick else []
    print(f"{'skew':>5}{'model hr@10':>13}{'pop hr@10':>11}{'model ndcg@10':>15}{'pop ndcg@10':>13}{'ratio hr':>10}{'wall s':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for skew in SKEWS:
            workdir = Path(tmp) / f"skew_{skew}"
            workdir.mkdir()
            start = time.perf_counter()
            done = run_lepton(
                ["run", "plugin=retail", "task=recommendation", "callbacks.progress_bar=null",
                 f"data.demo.popularity_skew={skew}", *size],
                workdir,
            )
            seconds = time.perf_counter() - start
            if done.returncode != 0:
                raise SystemExit(f"skew {skew}: run failed\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
            metrics = json.loads((latest_run(workdir, "retail", "recommendation") / "metrics.json").read_text())["metrics"]
            model, popular = metrics["model"], metrics["popularity"]
            print(
                f"{skew:>5}{model['hr_at_10']:>13.3f}{popular['hr_at_10']:>11.3f}{model['ndcg_at_10']:>15.3f}"
                f"{popular['ndcg_at_10']:>13.3f}{model['hr_at_10'] / popular['hr_at_10']:>10.2f}{seconds:>8.0f}"
            )


if __name__ == "__main__":
    main()
