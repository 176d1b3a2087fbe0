"""The example's predictor: JSON points in, probability and label out."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, field_validator

from lepton_core.deploy import Predictor
from lepton_core.hooks.specs import DeployContext
from lepton_example.model import MoonsClassifier


class Point(BaseModel):
    """One point to classify."""

    model_config = ConfigDict(extra="forbid")
    x1: float
    x2: float

    @field_validator("x1", "x2")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value


class Prediction(BaseModel):
    """Probability of the positive moon and the decided label."""

    probability: float
    label: int


class MoonsPredictor(Predictor):
    """Standardise, run the MLP, threshold at 0.5."""

    input_model = Point
    output_model = Prediction
    input_kind = "table"

    def __init__(self, module: torch.nn.Module, mean: list[float], std: list[float]) -> None:
        super().__init__(module)
        self.mean = torch.tensor(mean)
        self.std = torch.tensor(std)

    @classmethod
    def from_context(cls, ctx: DeployContext) -> MoonsPredictor:
        """Build from a bundle's model arguments and state."""
        module = ctx.build_model(MoonsClassifier)
        return cls(module, ctx.state["mean"], ctx.state["std"])

    def preprocess(self, items: Sequence[Point]) -> tuple[torch.Tensor, ...]:
        x = torch.tensor([[p.x1, p.x2] for p in items], dtype=torch.float32)
        return ((x - self.mean) / self.std,)

    def postprocess(self, outputs: Any, items: Sequence[Point]) -> list[dict[str, Any]]:
        probs = torch.sigmoid(torch.as_tensor(outputs)).tolist()
        return [{"probability": p, "label": int(p >= 0.5)} for p in probs]
