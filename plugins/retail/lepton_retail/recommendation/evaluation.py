"""Test evaluation of the recommender: full ranking over every item a user has not seen, vs every baseline."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any

import numpy as np
import torch

from lepton_core import Evaluation, RunContext, Table
from lepton_core.report.figures import new_figure, save_figure
from lepton_retail.recommendation.metrics import ranking_metrics, target_ranks

__all__ = ["evaluate_recommender", "held_out_ranks"]


def held_out_ranks(batches: Any, score: Callable[[torch.Tensor], torch.Tensor], k: int) -> tuple[np.ndarray, np.ndarray]:
    """0-based rank of each held-out item among the items not excluded, and each user's top-k item indices."""
    ranks, tops = [], []
    with torch.inference_mode():
        for users, targets, exclude in batches:
            scores = score(users).masked_fill(exclude, float("-inf"))
            ranks.append(target_ranks(scores, targets, torch.zeros_like(exclude)))
            tops.append(scores.topk(k, dim=1).indices)
    return torch.cat(ranks).numpy(), torch.cat(tops).numpy()


def evaluate_recommender(ctx: RunContext, datamodule: Any, model: Any, baselines: Sequence[Any]) -> Evaluation:
    """NDCG@K (primary), HR@K, Recall@2K and MRR of each user's last item ranked among all unseen items; coverage.

    NDCG@K decides: a user sees a short ranked list and looks at its top first, so the held-out item
    counts more the higher it is placed (HR@K is blind to position within the list).
    """
    k = int(ctx.cfg.task.get("k", 10))
    recall_k = int(ctx.cfg.task.get("recall_k", 2 * k))
    scorers: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {}
    if model is not None:
        model.eval()
        scorers["model"] = lambda users: model.scores(users.to(model.device)).cpu()
    for baseline in baselines:
        scorers[baseline.name] = baseline.predict
    metrics, ranks = {}, {}
    for name, score in scorers.items():
        ranks[name], top = held_out_ranks(datamodule.test_batches(), score, k)
        metrics[name] = {**ranking_metrics(ranks[name], k, recall_k), f"catalog_coverage_at_{k}": float(len(np.unique(top)) / datamodule.n_items)}
    users = datamodule.test[0]
    activity = np.array([len(datamodule.seen_train[u]) for u in users])
    return Evaluation(
        metrics=metrics,
        primary_metric=f"ndcg_at_{k}",
        greater_is_better=True,
        figures=(_hit_rate_curve(ctx, ranks),),
        tables=(_activity_table(activity, ranks, k),),
        notes=(
            (
                f"Leave-last-out: each of {len(users)} users' latest interaction is ranked against all "
                f"{datamodule.n_items} items minus those the user interacted with before it (no sampled negatives); "
                f"with one held-out item per user, Recall@{recall_k} equals HR@{recall_k}."
            ),
        ),
    )


def _hit_rate_curve(ctx: RunContext, ranks: dict[str, np.ndarray]) -> Any:
    fig, ax = new_figure(5.5, 3.8)
    cutoffs = np.arange(1, 51)
    for name, r in ranks.items():
        ax.plot(cutoffs, [(r < c).mean() for c in cutoffs], label=name)
    ax.set(xlabel="K (list length)", ylabel="HR@K", title="Hit rate of the held-out item by list length")
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(fig, ctx, "hit_rate_at_k", "Hit rate at K", "Share of users whose last item is in their top K, for K = 1..50.")


def _activity_table(activity: np.ndarray, ranks: dict[str, np.ndarray], k: int) -> Table:
    edges = np.unique(np.quantile(activity, [0, 0.25, 0.5, 0.75, 1.0]).round())
    rows = []
    for low, high in pairwise(edges):
        chosen = (activity >= low) & ((activity < high) if high < edges[-1] else (activity <= high))
        if chosen.any():
            rows.append((f"{int(low)}-{int(high)}", int(chosen.sum()), *(round(float((r[chosen] < k).mean()), 4) for r in ranks.values())))
    return Table(
        title=f"HR@{k} by user activity",
        columns=("training interactions", "users", *ranks),
        rows=tuple(rows),
        caption="Users grouped by how many training interactions they have (quartiles).",
    )
