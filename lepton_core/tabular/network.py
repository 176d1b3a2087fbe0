"""TabularNet: categorical embeddings + MLP (+ a linear skip path) over preprocessed table rows.

Pure tensor operations, so the module exports to ONNX with inputs ``(x_num, x_cat)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["PeriodicEmbedding", "QuantileScaler", "TabularNet", "embedding_size"]


def embedding_size(cardinality: int, max_dim: int = 16) -> int:
    """Embedding width for a vocabulary size (fast.ai's rule of thumb, capped at ``max_dim``)."""
    return max(1, min(max_dim, round(1.6 * cardinality**0.56)))


class QuantileScaler(nn.Module):
    """Maps each numeric column through its training quantiles onto a standard normal scale (piecewise linear).

    ``fit(x)`` stores ``bins + 1`` training quantiles per column (``knots``) and the standard normal quantiles
    at the same probabilities (``targets``); ``forward`` interpolates linearly between them and clamps outside,
    as scikit-learn's ``QuantileTransformer(output_distribution="normal")`` does (TabM and RealMLP scale numeric
    inputs this way). Skewed columns (amounts, limits) are spread evenly instead of being squeezed near zero by
    standardisation. Only elementwise operations (ONNX-exportable); the state is two buffers (safetensors).
    """

    def __init__(self, n_columns: int, bins: int = 32, min_width: float = 1e-3) -> None:
        super().__init__()
        if int(bins) < 1:
            raise ValueError(f"quantile bins={bins} must be at least 1")
        probabilities = (torch.arange(int(bins) + 1, dtype=torch.float64) + 0.5) / (int(bins) + 1)
        targets = torch.special.ndtri(probabilities).float()
        self.min_width = float(min_width)
        self.register_buffer("targets", targets.repeat(n_columns, 1))
        self.register_buffer("knots", targets.repeat(n_columns, 1))  # until fitted: the identity on the targets' range
        self.register_buffer("fitted", torch.tensor(False))

    @torch.no_grad()
    def fit(self, x: torch.Tensor, max_rows: int = 100_000) -> QuantileScaler:
        """Store the training quantiles of each column of ``x`` (rows, columns), from at most ``max_rows`` rows."""
        x = x[:: -(-len(x) // max_rows)]  # evenly spaced rows: torch.quantile refuses very large inputs
        probabilities = torch.linspace(0, 1, self.knots.shape[1], dtype=torch.float64)
        self.knots.copy_(torch.quantile(x.double(), probabilities, dim=0).T.float())
        self.fitted.fill_(True)
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, columns) -> (batch, columns), each column on a standard normal scale."""
        lower, upper = self.knots[:, :-1], self.knots[:, 1:]
        fraction = ((x.unsqueeze(-1) - lower) / (upper - lower).clamp_min(self.min_width)).clamp(0, 1)
        return self.targets[:, 0] + (fraction * (self.targets[:, 1:] - self.targets[:, :-1])).sum(-1)


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

    ``quantile_bins = b > 0`` first maps the MLP's numeric inputs through a QuantileScaler of ``b`` bins, fitted
    with ``fit_quantiles`` on the training rows (the linear skip path keeps the standardised values).
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
        quantile_bins: int = 0,
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
        self.quantiles = QuantileScaler(self.n_numeric, int(quantile_bins)) if quantile_bins and self.n_numeric else None
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

    def fit_quantiles(self, x_num: torch.Tensor) -> None:
        """Fit the QuantileScaler (if any) on training numeric inputs, unless fitted already (a loaded model)."""
        if self.quantiles is not None and not bool(self.quantiles.fitted):
            self.quantiles.fit(x_num)

    def embed(self, x_cat: torch.Tensor) -> list[torch.Tensor]:
        """One embedding tensor (batch, dim) per categorical column."""
        return [embedding(x_cat[:, i]) for i, embedding in enumerate(self.embeddings)]

    def forward_members(self, x_num: torch.Tensor, embedded: Sequence[torch.Tensor]) -> torch.Tensor:
        """Each member's outputs (batch, ensemble, n_outputs) from numeric inputs and embedded categoricals."""
        inputs = torch.cat([x_num, *embedded], dim=1) if embedded else x_num
        numeric = self.quantiles(x_num) if self.quantiles is not None else x_num
        numeric = self.periodic(numeric) if self.periodic is not None else numeric
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
