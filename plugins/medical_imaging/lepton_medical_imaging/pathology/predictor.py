"""PathologyPredictor: one slide (a tiled TIFF's bytes, base64) in; tumour probability and the top attention tiles out.

Uploaded bytes are hostile: size-bounded before decoding (``task.max_slide_bytes``), checked to be a TIFF,
its pixel count bounded, its compression limited to none or Deflate with every segment's inflated size
checked (see ``slides.read_level``); the tile count is capped as in training.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

from lepton_core.deploy import Predictor, decode_base64
from lepton_core.errors import DataError
from lepton_core.hooks.specs import DeployContext
from lepton_medical_imaging.pathology.model import PathologyMIL
from lepton_medical_imaging.pathology.slides import TilingOptions, read_level, tile_slide

__all__ = ["DEFAULT_MAX_SLIDE_BYTES", "PathologyPredictor", "SlideItem", "SlidePrediction", "example_slide_base64"]

DEFAULT_MAX_SLIDE_BYTES = 64 * 2**20


class SlideItem(BaseModel):
    """One slide to classify."""

    model_config = ConfigDict(extra="forbid")
    image: str = Field(min_length=8, description="The slide's TIFF file bytes, base64-encoded.")
    top_tiles: int = Field(5, ge=0, le=50, description="How many of the most attended tiles to return.")


class AttentionTile(BaseModel):
    """A tile the slide score rests on: its top-left corner and side in level-0 pixels, and its attention."""

    x: int
    y: int
    size: int
    attention: float = Field(ge=0, le=1)


class SlidePrediction(BaseModel):
    """Tumour probability of the slide, its label at 0.5, the tiles read and the most attended ones."""

    label: str
    probability: float = Field(ge=0, le=1)
    tiles: int
    top_tiles: list[AttentionTile]


def example_slide_base64(size: int = 128, levels: int = 1) -> str:
    """A made-up slide (a pink disc with purple dots, never a data slide) as base64 pyramidal TIFF bytes."""
    from lepton_medical_imaging.pathology.demo import render_slide, tiff_bytes

    side = size * 2 ** (levels - 1)
    pixels, _ = render_slide(side, tumour=True, rng=np.random.default_rng(7))
    return base64.b64encode(tiff_bytes(pixels, levels=levels, tile=max(16, side // 2 // 16 * 16))).decode("ascii")


class PathologyPredictor(Predictor):
    """Decode and tile a slide as in training, score its bag, return the most attended tiles."""

    input_model = SlideItem
    output_model = SlidePrediction
    input_kind = "image"

    def __init__(self, module: PathologyMIL, state: Mapping[str, Any], max_slide_bytes: int = DEFAULT_MAX_SLIDE_BYTES) -> None:
        super().__init__(module)
        self.class_names = [str(n) for n in state["class_names"]]
        self.options = TilingOptions(
            int(state["level"]), int(state["tile_size"]), int(state["max_tiles"]), float(state["tissue_saturation"]),
            float(state["tissue_brightness"]), float(state["min_tissue"]),
        )
        self.mean = torch.tensor([float(v) for v in state["mean"]]).view(1, 3, 1, 1)
        self.std = torch.tensor([float(v) for v in state["std"]]).view(1, 3, 1, 1)
        self.max_slide_bytes = int(max_slide_bytes)

    @classmethod
    def from_context(cls, ctx: DeployContext) -> PathologyPredictor:
        """Rebuild the network from plain kwargs (the core loads the weights) and the tiling state."""
        module = ctx.build_model(PathologyMIL, weights_path=None)  # never read a file the bundle names
        limit = int(ctx.cfg.task.get("max_slide_bytes", DEFAULT_MAX_SLIDE_BYTES))
        return cls(module, ctx.state, max_slide_bytes=limit)

    def _tiles(self, item: SlideItem, index: int) -> tuple[torch.Tensor, np.ndarray, float]:
        name = f"input item {index} (slide)"
        if len(item.image) > (self.max_slide_bytes + 2) // 3 * 4:  # base64 length, checked before decoding
            raise DataError(f"{name} is larger than {self.max_slide_bytes} bytes", "send a smaller slide or level")
        pixels, downsample = read_level(decode_base64(item.image), self.options.level, name, hostile=True)
        tiles = tile_slide(pixels, downsample, self.options, name)
        normalised = (torch.from_numpy(tiles.tiles).float() / 255.0 - self.mean) / self.std
        return normalised, tiles.coords, tiles.tile_px0

    def predict_items(self, items: Sequence[BaseModel]) -> list[dict[str, Any]]:
        """One bag per slide (bags differ in size): tile, run the network, rank tiles by attention."""
        results = []
        for index, item in enumerate(items):
            tiles, coords, side = self._tiles(item, index)  # type: ignore[arg-type]
            logit, weights = self.run_module((tiles,))
            probability = float(torch.sigmoid(logit.reshape(-1)[0]))
            weights = weights.reshape(-1).double().numpy()
            top = np.argsort(-weights, kind="stable")[: item.top_tiles]  # type: ignore[attr-defined]
            results.append({
                "label": self.class_names[int(probability >= 0.5)],
                "probability": probability,
                "tiles": len(weights),
                "top_tiles": [
                    {"x": int(coords[i, 1]), "y": int(coords[i, 0]), "size": round(side), "attention": float(weights[i])}
                    for i in top
                ],
            })
        return results
