"""Integrated-gradients attributions of a TabularNet output to each input column (reason codes).

The reference input is a "typical row": every numeric at its training mean (0 after scaling), no
missing flags, every categorical at index 0 (missing/unseen). Categorical attributions are taken over
the embedding vectors and summed per column, so each input column gets one number; the numbers add up
to ``output(row) - output(reference)`` (completeness).
"""

from __future__ import annotations

import numpy as np
import torch

from lepton_core.tabular.network import TabularNet
from lepton_core.tabular.preprocessing import TabularPreprocessor

__all__ = ["column_attributions", "integrated_gradients", "top_reasons"]


def integrated_gradients(
    net: TabularNet,
    x_num: torch.Tensor,
    x_cat: torch.Tensor,
    output_index: int = 0,
    steps: int = 32,
    batch_size: int = 4096,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-input attributions (n, n_numeric) and (n, n_categorical) of output ``output_index``."""
    was_training = net.training
    net.eval()
    device = next(net.parameters()).device
    attr_num, attr_cat = [], []
    alphas = (torch.arange(steps, dtype=torch.float32) + 0.5) / steps
    for start in range(0, x_num.shape[0], batch_size):
        num = x_num[start : start + batch_size].to(device)
        cat = x_cat[start : start + batch_size].to(device)
        with torch.no_grad():
            target_emb = [e.detach() for e in net.embed(cat)]
            base_emb = [e.detach() for e in net.embed(torch.zeros_like(cat))]
        grad_num = torch.zeros_like(num)
        grad_emb = [torch.zeros_like(e) for e in target_emb]
        for alpha in alphas.tolist():
            path_num = (alpha * num).requires_grad_(True)
            path_emb = [(b + alpha * (t - b)).requires_grad_(True) for b, t in zip(base_emb, target_emb)]
            output = net.forward_embedded(path_num, path_emb)[:, output_index].sum()
            grads = torch.autograd.grad(output, [path_num, *path_emb])
            grad_num += grads[0]
            for g, new in zip(grad_emb, grads[1:]):
                g += new
        attr_num.append((grad_num / steps * num).cpu().numpy())
        per_column = [((g / steps) * (t - b)).sum(dim=1) for g, t, b in zip(grad_emb, target_emb, base_emb)]
        attr_cat.append(
            torch.stack(per_column, dim=1).cpu().numpy() if per_column else np.zeros((num.shape[0], 0), np.float32)
        )
    net.train(was_training)
    return np.concatenate(attr_num), np.concatenate(attr_cat)


def column_attributions(
    net: TabularNet,
    preprocessor: TabularPreprocessor,
    x_num: torch.Tensor,
    x_cat: torch.Tensor,
    output_index: int = 0,
    steps: int = 32,
) -> np.ndarray:
    """Attributions summed per input column (order of ``preprocessor.columns``), shape (n, n_columns)."""
    attr_num, attr_cat = integrated_gradients(net, x_num, x_cat, output_index=output_index, steps=steps)
    return preprocessor.group_by_column(attr_num, attr_cat)


def top_reasons(
    attributions: np.ndarray, columns: list[str], rows: list[dict[str, object]], k: int = 3
) -> list[list[dict[str, object]]]:
    """For each row, the ``k`` columns with the largest absolute attribution: feature, value, contribution."""
    reasons = []
    for row_attr, row in zip(attributions, rows):
        order = np.argsort(-np.abs(row_attr))[:k]
        reasons.append(
            [
                {
                    "feature": columns[i],
                    "value": row.get(columns[i]),
                    "contribution": round(float(row_attr[i]), 4),
                    "direction": "raises" if row_attr[i] > 0 else "lowers",
                }
                for i in order
            ]
        )
    return reasons
