"""Full-ranking metrics of one held-out item per user: rank, HR@K, NDCG@K, Recall@K, MRR.

Every item the user has not interacted with before the held-out one is ranked (no sampled negatives).
With a single held-out item per user, Recall@K (share of a user's held-out items in the top K) equals HR@K.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["ranking_metrics", "target_ranks"]


def target_ranks(scores: torch.Tensor, targets: torch.Tensor, exclude: torch.Tensor) -> torch.Tensor:
    """0-based rank of each target among all items not excluded (ties count against the target)."""
    scores = scores.masked_fill(exclude, float("-inf"))
    target_scores = scores.gather(1, targets.view(-1, 1))
    return (scores >= target_scores).sum(1) - 1


def ranking_metrics(ranks: np.ndarray, k: int = 10, recall_k: int = 20) -> dict[str, float]:
    """HR@k (share of held-out items in the top k), NDCG@k (1/log2(rank+2) when in the top k), Recall@recall_k, MRR."""
    ranks = np.asarray(ranks, dtype=float)
    hits = ranks < k
    return {
        f"ndcg_at_{k}": float(np.where(hits, 1.0 / np.log2(ranks + 2), 0.0).mean()),
        f"hr_at_{k}": float(hits.mean()),
        f"recall_at_{recall_k}": float((ranks < recall_k).mean()),
        "mrr": float((1.0 / (ranks + 1)).mean()),
    }
