"""The deployed classifier: an image (PNG/JPEG/... or DICOM bytes, base64) in; class probabilities and an
optional Grad-CAM heatmap out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

from lepton_core.deploy import Predictor, decode_base64
from lepton_core.hooks.specs import DeployContext
from lepton_core.vision.batches import normalize_batch
from lepton_medical_imaging.dicom import DicomOptions, decode_any
from lepton_medical_imaging.models import ImageClassifier

__all__ = ["ImageItem", "ImagePrediction", "MedicalImagePredictor"]


class ImageItem(BaseModel):
    """One image to classify."""

    model_config = ConfigDict(extra="forbid")
    image: str = Field(
        min_length=1, description="The file's bytes (PNG, JPEG, BMP, TIFF or DICOM), base64-encoded."
    )
    gradcam: bool = Field(False, description="Also return a Grad-CAM heatmap of the predicted class.")


class ImagePrediction(BaseModel):
    """Predicted class, the probability of every class, and the heatmap when asked."""

    label: str
    probabilities: dict[str, float]
    heatmap: list[list[float]] | None = Field(
        None, description="Grad-CAM of the predicted class, 0..1, at the model's input size (rows of pixels)."
    )


class MedicalImagePredictor(Predictor):
    """Decode (DICOM with the training run's windowing, else Pillow), resize, normalise, classify."""

    input_model = ImageItem
    output_model = ImagePrediction
    input_kind = "image"

    def __init__(self, module: ImageClassifier, state: Mapping[str, Any]) -> None:
        super().__init__(module)
        self.class_names = [str(n) for n in state["class_names"]]
        self.size = tuple(int(s) for s in state["size"])
        self.channels = int(state["channels"])
        self.mean, self.std = list(state["mean"]), list(state["std"])
        dicom = state.get("dicom") or {}
        self.dicom = DicomOptions(
            dicom.get("window_center"), dicom.get("window_width"), dicom.get("frame", "middle")
        )

    @classmethod
    def from_context(cls, ctx: DeployContext) -> MedicalImagePredictor:
        """Rebuild the network (no weights yet: the core loads the bundle's) and the preprocessing."""
        state = ctx.state
        module = ctx.build_model(ImageClassifier, weights_path=None)  # never read a file the bundle names
        return cls(module, state)

    def preprocess(self, items: Sequence[ImageItem]) -> tuple[torch.Tensor, ...]:
        """Decode every item to uint8 at the training size and normalise as in training."""
        pixels = [
            decode_any(
                decode_base64(item.image), self.size, self.channels, f"input item {index} (image)", self.dicom
            )
            for index, item in enumerate(items)
        ]
        stack = torch.from_numpy(np.stack(pixels).transpose(0, 3, 1, 2).copy())
        return (normalize_batch(stack, self.mean, self.std),)

    def postprocess(self, outputs: Any, items: Sequence[ImageItem]) -> list[dict[str, Any]]:
        """Softmax probabilities and the most likely class."""
        probs = torch.softmax(torch.as_tensor(outputs).float(), dim=1).tolist()
        return [
            {
                "label": self.class_names[int(np.argmax(p))],
                "probabilities": dict(zip(self.class_names, p)),
                "heatmap": None,
            }
            for p in probs
        ]

    def predict_items(self, items: Sequence[BaseModel]) -> list[dict[str, Any]]:
        """Predict; for items with ``gradcam: true``, add the Grad-CAM heatmap of the predicted class."""
        if not items:
            return []
        inputs = self.preprocess(items)  # type: ignore[arg-type]
        results = self.postprocess(self.run_module(inputs), items)  # type: ignore[arg-type]
        wanted = [i for i, item in enumerate(items) if getattr(item, "gradcam", False)]
        if wanted and self.module is not None:
            from lepton_core.vision.gradcam import GradCAM

            network = getattr(self.module, "backbone", self.module)
            device = next(network.parameters()).device
            chosen = torch.tensor([self.class_names.index(results[i]["label"]) for i in wanted])
            heatmaps, _ = GradCAM(network)(inputs[0][wanted].to(device), chosen)
            full = torch.nn.functional.interpolate(
                heatmaps[:, None], size=self.size, mode="bilinear", align_corners=False
            )
            for row, index in enumerate(wanted):
                results[index]["heatmap"] = np.round(full[row, 0].clamp(0, 1).double().numpy(), 3).tolist()
        return results
