"""A linear-model design matrix from preprocessed tensors: scaled numerics + one-hot categoricals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

__all__ = ["design_matrix"]


def design_matrix(x_num: torch.Tensor | np.ndarray, x_cat: torch.Tensor | np.ndarray, cardinalities: Sequence[int]) -> csr_matrix:
    """Sparse CSR matrix [x_num | one-hot(x_cat)], for scikit-learn's linear baselines (same features as the net)."""
    from scipy import sparse

    num = np.asarray(x_num, dtype=np.float64)
    cat = np.asarray(x_cat, dtype=np.int64)
    n = num.shape[0]
    blocks = [sparse.csr_matrix(num)]
    for j, cardinality in enumerate(cardinalities):
        rows = np.arange(n)
        blocks.append(sparse.csr_matrix((np.ones(n), (rows, cat[:, j])), shape=(n, int(cardinality))))
    return sparse.hstack(blocks, format="csr")
