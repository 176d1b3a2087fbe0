"""Full-ranking metrics of one held-out item per user: rank, HR@K, NDCG@K, MRR."""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["ranking_metrics", "target_ranks"]


def target_ranks(scores: torch.Tensor, targets: torch.Tensor, exclude: torch.Tensor) -> torch.Tensor:
    """0-based rank of each target among all items not excluded (ties count against the target)."""
    scores = scores.masked_fill(exclude, float("-inf"))
    target_scores = scores.gather(1, targets.view(-1, 1))
    return (scores >= target_scores).sum(1) - 1


def ranking_metrics(ranks: np.ndarray, k: int = 10) -> dict[str, float]:
    """HR@k (share of held-out items in the top k), NDCG@k (1/log2(rank+2) when in the top k) and MRR."""
    ranks = np.asarray(ranks, dtype=float)
    hits = ranks < k
    return {
        f"hr_at_{k}": float(hits.mean()),
        f"ndcg_at_{k}": float(np.where(hits, 1.0 / np.log2(ranks + 2), 0.0).mean()),
        "mrr": float((1.0 / (ranks + 1)).mean()),
    }
