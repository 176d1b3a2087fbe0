"""Integrated-gradients attributions of a TabularNet output to each input column (reason codes).

The reference input is the "average training row": every ``x_num`` column at its training mean (0 for
scaled numerics, the missing rate for missing flags) and every categorical at its average embedding
(the embeddings weighted by the training share of each category). Categorical attributions are taken
over the embedding vectors and summed per column, so each input column gets one number; the numbers
add up to ``output(row) - output(reference)`` (completeness).
"""

from __future__ import annotations

import numpy as np
import torch

from lepton_core.tabular.network import TabularNet
from lepton_core.tabular.preprocessing import TabularPreprocessor

__all__ = ["column_attributions", "integrated_gradients", "top_reasons"]


Reference = tuple[np.ndarray, list[np.ndarray]]


def integrated_gradients(
    net: TabularNet,
    x_num: torch.Tensor,
    x_cat: torch.Tensor,
    reference: Reference | None = None,
    output_index: int = 0,
    steps: int = 32,
    batch_size: int = 4096,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-input attributions (n, n_numeric) and (n, n_categorical) of output ``output_index``.

    ``reference`` is (x_num reference row, per categorical column the weights of its embedding rows);
    None means zeros and the index-0 embedding.
    """
    was_training = net.training
    net.eval()
    device = next(net.parameters()).device
    if reference is None:
        ref_num = torch.zeros(x_num.shape[1], device=device)
        with torch.no_grad():
            ref_emb = [e.weight[0].detach() for e in net.embeddings]
    else:
        ref_num = torch.as_tensor(reference[0], dtype=torch.float32, device=device)
        with torch.no_grad():
            ref_emb = [
                torch.as_tensor(w, dtype=torch.float32, device=device) @ e.weight.detach()
                for w, e in zip(reference[1], net.embeddings)
            ]
    attr_num, attr_cat = [], []
    alphas = (torch.arange(steps, dtype=torch.float32) + 0.5) / steps
    for start in range(0, x_num.shape[0], batch_size):
        num = x_num[start : start + batch_size].to(device)
        cat = x_cat[start : start + batch_size].to(device)
        with torch.no_grad():
            target_emb = [e.detach() for e in net.embed(cat)]
        base_emb = [r.expand_as(t) for r, t in zip(ref_emb, target_emb)]
        grad_num = torch.zeros_like(num)
        grad_emb = [torch.zeros_like(e) for e in target_emb]
        for alpha in alphas.tolist():
            path_num = (ref_num + alpha * (num - ref_num)).requires_grad_(True)
            path_emb = [(b + alpha * (t - b)).requires_grad_(True) for b, t in zip(base_emb, target_emb)]
            output = net.forward_embedded(path_num, path_emb)[:, output_index].sum()
            grads = torch.autograd.grad(output, [path_num, *path_emb])
            grad_num += grads[0]
            for g, new in zip(grad_emb, grads[1:]):
                g += new
        attr_num.append((grad_num / steps * (num - ref_num)).cpu().numpy())
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
    """Attributions against the average training row, summed per input column (order of ``preprocessor.columns``)."""
    reference = (preprocessor.reference_numeric(), preprocessor.reference_category_shares())
    attr_num, attr_cat = integrated_gradients(net, x_num, x_cat, reference, output_index=output_index, steps=steps)
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
