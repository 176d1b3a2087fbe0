"""Deployed RUL predictor: a window of sensor readings in, remaining useful life out."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator

from lepton_core import DataError, DeployContext
from lepton_core.deploy import Predictor
from lepton_manufacturing.maintenance.model import RULNet

__all__ = ["RULPrediction", "RULPredictor", "SensorWindow"]


class SensorWindow(BaseModel):
    """Recent readings of one unit: sensor column -> values, oldest first (at least the model's window)."""

    model_config = ConfigDict(extra="forbid")
    readings: dict[str, list[float]] = Field(description="sensor column -> readings, oldest first")

    @field_validator("readings")
    @classmethod
    def _finite(cls, readings: dict[str, list[float]]) -> dict[str, list[float]]:
        for name, values in readings.items():
            if not all(math.isfinite(v) for v in values):
                raise ValueError(f"sensor '{name}' has a value that is not a finite number")
        return readings


class RULPrediction(BaseModel):
    """Predicted remaining useful life in cycles (capped at the training cap)."""

    rul: float
    rul_cap: float


class RULPredictor(Predictor):
    """Take the last ``window`` readings of each trained sensor, normalise, run the network."""

    input_model = SensorWindow
    output_model = RULPrediction
    input_kind = "json"

    def __init__(self, module: torch.nn.Module, state: dict[str, Any]) -> None:
        super().__init__(module)
        self.channels: list[str] = list(state["channels"])
        self.window = int(state["window"])
        self.rul_cap = float(state["rul_cap"])
        self.mean = np.asarray(state["mean"], np.float64)
        std = np.asarray(state["std"], np.float64)
        self.std = np.where(std > 0, std, 1.0)

    @classmethod
    def from_context(cls, ctx: DeployContext) -> RULPredictor:
        """Rebuild the network from the bundle's model arguments and fitted state."""
        state = dict(ctx.state)
        module = ctx.build_model(RULNet)
        return cls(module, state)

    def preprocess(self, items: Sequence[SensorWindow]) -> tuple[torch.Tensor, ...]:
        windows = []
        for index, item in enumerate(items):
            missing = [c for c in self.channels if c not in item.readings]
            if missing:
                raise DataError(
                    f"input item {index}: missing sensor column(s) {', '.join(missing)}",
                    f"send readings for every trained sensor: {', '.join(self.channels)}",
                )
            short = {c: len(item.readings[c]) for c in self.channels if len(item.readings[c]) < self.window}
            if short:
                name, length = next(iter(short.items()))
                raise DataError(
                    f"input item {index}: sensor '{name}' has {length} readings, the model needs a window of {self.window}",
                    f"send at least the last {self.window} readings of each sensor",
                )
            windows.append(np.column_stack([item.readings[c][-self.window :] for c in self.channels]))
        raw = np.stack(windows).astype(np.float32)
        return (torch.from_numpy(((raw - self.mean) / self.std).astype(np.float32)),)

    def postprocess(self, outputs: Any, items: Sequence[SensorWindow]) -> list[dict[str, Any]]:
        return [{"rul": float(v), "rul_cap": self.rul_cap} for v in torch.as_tensor(outputs).tolist()]
