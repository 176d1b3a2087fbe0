"""TabularNet: categorical embeddings + MLP (+ a linear skip path) over preprocessed table rows.

Pure tensor operations, so the module exports to ONNX with inputs ``(x_num, x_cat)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["TabularNet", "embedding_size"]


def embedding_size(cardinality: int, max_dim: int = 16) -> int:
    """Embedding width for a vocabulary size (fast.ai's rule of thumb, capped at ``max_dim``)."""
    return max(1, min(max_dim, round(1.6 * cardinality**0.56)))


class TabularNet(nn.Module):
    """Embeds each categorical column, concatenates the numeric columns, and maps them to ``n_outputs``.

    ``forward(x_num, x_cat)`` takes float32 (batch, n_numeric) and int64 (batch, n_categorical) and
    returns (batch, n_outputs). With ``linear_skip`` a linear layer on the same inputs is added to the
    MLP's output (wide & deep) and the MLP's last layer starts at zero, so the network starts as a
    linear model and the MLP adds non-linear terms only where the data supports them.
    """

    def __init__(
        self,
        n_numeric: int,
        cardinalities: Sequence[int],
        n_outputs: int = 1,
        hidden: Sequence[int] = (128, 64),
        dropout: float = 0.1,
        max_embedding_dim: int = 16,
        linear_skip: bool = True,
    ) -> None:
        super().__init__()
        self.n_numeric = int(n_numeric)
        self.cardinalities = [int(c) for c in cardinalities]
        self.embeddings = nn.ModuleList(
            nn.Embedding(c, embedding_size(c, max_embedding_dim)) for c in self.cardinalities
        )
        width = self.n_numeric + sum(e.embedding_dim for e in self.embeddings)
        if width == 0:
            raise ValueError("TabularNet needs at least one numeric or categorical input")
        layers: list[nn.Module] = []
        previous = width
        for size in hidden:
            layers += [nn.Linear(previous, int(size)), nn.ReLU(), nn.Dropout(dropout)]
            previous = int(size)
        layers.append(nn.Linear(previous, n_outputs))
        self.mlp = nn.Sequential(*layers)
        self.skip = nn.Linear(width, n_outputs) if linear_skip else None
        if self.skip is not None:  # start as the linear model; the MLP adds only what the data supports
            nn.init.zeros_(layers[-1].weight)
            nn.init.zeros_(layers[-1].bias)

    def embed(self, x_cat: torch.Tensor) -> list[torch.Tensor]:
        """One embedding tensor (batch, dim) per categorical column."""
        return [embedding(x_cat[:, i]) for i, embedding in enumerate(self.embeddings)]

    def forward_embedded(self, x_num: torch.Tensor, embedded: Sequence[torch.Tensor]) -> torch.Tensor:
        """The network from numeric inputs and already-embedded categoricals (used by attributions)."""
        inputs = torch.cat([x_num, *embedded], dim=1) if embedded else x_num
        out = self.mlp(inputs)
        return out + self.skip(inputs) if self.skip is not None else out

    def forward(self, x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
        """Outputs of shape (batch, n_outputs)."""
        return self.forward_embedded(x_num, self.embed(x_cat))
