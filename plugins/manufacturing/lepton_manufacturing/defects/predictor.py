"""Deployed defect detector: an image (base64 bytes) in; anomaly score, decision and heatmap out."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

from lepton_core import DeployContext
from lepton_core.deploy import Predictor, decode_base64
from lepton_core.vision.images import decode_image
from lepton_manufacturing.defects.model import SurfaceAutoencoder

__all__ = ["DefectPredictor", "PartImage", "PartVerdict"]


class PartImage(BaseModel):
    """One part's image file (PNG, JPEG, BMP, TIFF...), its bytes base64-encoded."""

    model_config = ConfigDict(extra="forbid")
    image: str = Field(description="the image file's bytes, standard base64 (no data: prefix)")


class PartVerdict(BaseModel):
    """Anomaly score, the decision at the bundle's threshold and where the anomaly is."""

    anomaly_score: float
    is_defect: bool
    threshold: float
    heatmap: str = Field(description="PNG (base64), grayscale at the model's image size: 255 = twice the threshold")


def _heatmap_png(heat: np.ndarray, threshold: float) -> str:
    from PIL import Image

    scale = 2.0 * threshold if threshold > 0 else float(heat.max()) or 1.0
    pixels = np.round(np.clip(heat / scale, 0.0, 1.0) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


class DefectPredictor(Predictor):
    """Decode and resize like the training images, run the autoencoder, compare the score with the threshold."""

    input_model = PartImage
    output_model = PartVerdict
    input_kind = "image"

    def __init__(self, module: torch.nn.Module, state: dict[str, Any]) -> None:
        super().__init__(module)
        self.channels = int(state["channels"])
        self.size = (int(state["height"]), int(state["width"]))
        self.threshold = float(state["decision"]["threshold"])

    @classmethod
    def from_context(cls, ctx: DeployContext) -> DefectPredictor:
        """Rebuild the autoencoder from the bundle's model arguments."""
        state = dict(ctx.state)
        module = ctx.build_model(SurfaceAutoencoder)
        return cls(module, state)

    def preprocess(self, items: Sequence[PartImage]) -> tuple[torch.Tensor, ...]:
        pixels = [
            decode_image(decode_base64(item.image), self.size, self.channels, name=f"input item {index}")
            for index, item in enumerate(items)
        ]
        stack = np.stack(pixels).transpose(0, 3, 1, 2)
        return (torch.from_numpy(np.ascontiguousarray(stack)).float().div_(255.0),)

    def postprocess(self, outputs: Any, items: Sequence[PartImage]) -> list[dict[str, Any]]:
        scores, heatmaps = (t.detach().cpu().numpy() for t in outputs)
        return [
            {
                "anomaly_score": float(score),
                "is_defect": bool(score >= self.threshold),
                "threshold": self.threshold,
                "heatmap": _heatmap_png(heat, self.threshold),
            }
            for score, heat in zip(scores, heatmaps)
        ]
