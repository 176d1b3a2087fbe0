"""TabularNet: categorical embeddings + MLP (+ a linear skip path) over preprocessed table rows.

Pure tensor operations, so the module exports to ONNX with inputs ``(x_num, x_cat)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["PeriodicEmbedding", "TabularNet", "embedding_size"]


def embedding_size(cardinality: int, max_dim: int = 16) -> int:
    """Embedding width for a vocabulary size (fast.ai's rule of thumb, capped at ``max_dim``)."""
    return max(1, min(max_dim, round(1.6 * cardinality**0.56)))


class PeriodicEmbedding(nn.Module):
    """PLR numeric embeddings (Gorishniy et al., "On Embeddings for Numerical Features", 2022), lite version.

    Each numeric column x_j becomes ``ReLU(W [cos(2 pi c_j x_j), sin(2 pi c_j x_j)] + b)``: ``frequencies``
    trainable frequencies per column (initialised from N(0, ``scale``)), one linear map shared by the
    columns (as TabM's PLR-lite), ``dim`` outputs per column.
    """

    def __init__(self, n_columns: int, dim: int, frequencies: int = 16, scale: float = 0.1) -> None:
        super().__init__()
        self.frequencies = nn.Parameter(torch.randn(n_columns, frequencies) * scale)
        self.linear = nn.Linear(2 * frequencies, dim)
        self.dim = int(dim)

    def forward(self, x_num: torch.Tensor) -> torch.Tensor:
        """(batch, n_columns) -> (batch, n_columns * dim)."""
        angles = 2 * torch.pi * self.frequencies * x_num.unsqueeze(-1)  # (batch, columns, frequencies)
        out = torch.relu(self.linear(torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)))
        return out.flatten(1)


class TabularNet(nn.Module):
    """Embeds each categorical column, concatenates the numeric columns, and maps them to ``n_outputs``.

    ``forward(x_num, x_cat)`` takes float32 (batch, n_numeric) and int64 (batch, n_categorical) and
    returns (batch, n_outputs). With ``linear_skip`` a linear layer on the same inputs is added to the
    MLP's output (wide & deep) and the MLP's last layer starts at zero, so the network starts as a
    linear model and the MLP adds non-linear terms only where the data supports them.

    ``ensemble = k > 1`` makes the MLP a TabM-mini efficient ensemble (Gorishniy et al., "TabM", 2024):
    each of k members scales the shared input by its own vector (initialised to random signs), runs the
    shared hidden layers, and has its own output head; ``forward`` returns the members' mean, and
    ``forward_members`` each member's output, so training can fit every member on its own loss.

    ``numeric_embedding = d > 0`` feeds the MLP each numeric column as a PeriodicEmbedding of width ``d``
    instead of the raw value (the linear skip path keeps the raw values).
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
        ensemble: int = 1,
        numeric_embedding: int = 0,
        embedding_frequencies: int = 16,
        frequency_scale: float = 0.1,
    ) -> None:
        super().__init__()
        if int(ensemble) < 1:
            raise ValueError(f"ensemble={ensemble} must be at least 1")
        self.ensemble = int(ensemble)
        self.n_numeric = int(n_numeric)
        self.cardinalities = [int(c) for c in cardinalities]
        self.embeddings = nn.ModuleList(
            nn.Embedding(c, embedding_size(c, max_embedding_dim)) for c in self.cardinalities
        )
        width = self.n_numeric + sum(e.embedding_dim for e in self.embeddings)
        if width == 0:
            raise ValueError("TabularNet needs at least one numeric or categorical input")
        self.periodic = (
            PeriodicEmbedding(self.n_numeric, int(numeric_embedding), int(embedding_frequencies), frequency_scale)
            if numeric_embedding and self.n_numeric
            else None
        )
        mlp_width = width + (self.n_numeric * (self.periodic.dim - 1) if self.periodic is not None else 0)
        layers: list[nn.Module] = []
        previous = mlp_width
        for size in hidden:
            layers += [nn.Linear(previous, int(size)), nn.ReLU(), nn.Dropout(dropout)]
            previous = int(size)
        if self.ensemble == 1:
            layers.append(nn.Linear(previous, n_outputs))
        self.mlp = nn.Sequential(*layers)
        self.skip = nn.Linear(width, n_outputs) if linear_skip else None
        if self.ensemble == 1:
            if self.skip is not None:  # start as the linear model; the MLP adds only what the data supports
                nn.init.zeros_(layers[-1].weight)
                nn.init.zeros_(layers[-1].bias)
            return
        signs = torch.randint(0, 2, (self.ensemble, mlp_width)).float() * 2 - 1
        self.member_scale = nn.Parameter(signs)
        bound = 1.0 / previous**0.5
        self.head_weight = nn.Parameter(torch.empty(self.ensemble, previous, n_outputs).uniform_(-bound, bound))
        self.head_bias = nn.Parameter(torch.zeros(self.ensemble, n_outputs))
        if self.skip is not None:
            nn.init.zeros_(self.head_weight)

    def embed(self, x_cat: torch.Tensor) -> list[torch.Tensor]:
        """One embedding tensor (batch, dim) per categorical column."""
        return [embedding(x_cat[:, i]) for i, embedding in enumerate(self.embeddings)]

    def forward_members(self, x_num: torch.Tensor, embedded: Sequence[torch.Tensor]) -> torch.Tensor:
        """Each member's outputs (batch, ensemble, n_outputs) from numeric inputs and embedded categoricals."""
        inputs = torch.cat([x_num, *embedded], dim=1) if embedded else x_num
        numeric = self.periodic(x_num) if self.periodic is not None else x_num
        features = torch.cat([numeric, *embedded], dim=1) if embedded else numeric
        if self.ensemble == 1:
            out = self.mlp(features).unsqueeze(1)
        else:
            hidden = self.mlp(features.unsqueeze(1) * self.member_scale)  # (batch, k, hidden)
            out = torch.einsum("bkh,kho->bko", hidden, self.head_weight) + self.head_bias
        return out + self.skip(inputs).unsqueeze(1) if self.skip is not None else out

    def forward_embedded(self, x_num: torch.Tensor, embedded: Sequence[torch.Tensor]) -> torch.Tensor:
        """The network (members' mean) from numeric inputs and already-embedded categoricals (used by attributions)."""
        return self.forward_members(x_num, embedded).mean(dim=1)

    def forward(self, x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
        """Outputs of shape (batch, n_outputs)."""
        return self.forward_embedded(x_num, self.embed(x_cat))
