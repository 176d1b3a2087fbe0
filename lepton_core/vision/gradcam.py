"""Grad-CAM (Selvaraju et al., 2017) for any convolutional classifier, with forward and tensor hooks.

The heatmap of class c is ReLU(sum_k w_k A_k), where A_k are the activations of a chosen layer and w_k the
spatial mean of d logit_c / d A_k. It shows which regions pushed the model towards c.

The default layer is the deepest one whose feature map still has ``min_size`` cells a side for the images
given (``resolution_layer``): the last convolution of a ResNet-18 on 64x64 images leaves a 2x2 map that cannot
point at anything, its ``layer2`` block keeps 8x8.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["GradCAM", "last_conv_layer", "resolution_layer"]


def last_conv_layer(model: nn.Module) -> nn.Module:
    """The last ``nn.Conv2d`` of ``model`` in registration order."""
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ValueError(f"{type(model).__name__} has no Conv2d layer for Grad-CAM")
    return convs[-1]


def resolution_layer(model: nn.Module, images: torch.Tensor, min_size: int = 8) -> nn.Module:
    """The module whose output is computed last among those with a 4-D map of at least ``min_size`` a side.

    A probe forward of one image records every module's output shape; a block (a ResNet stage, a
    ``Sequential`` of conv-BN-ReLU) finishes after its convolutions, so its output is preferred. When no map
    is that large (tiny images), the module with the largest map wins, the deepest among equals.
    """
    last_conv_layer(model)  # a model without convolutions cannot have a Grad-CAM
    seen: list[tuple[nn.Module, int]] = []

    def record(module: nn.Module, _inputs: object, output: object) -> None:
        if isinstance(output, torch.Tensor) and output.ndim == 4:
            seen.append((module, min(output.shape[2:])))

    handles = [m.register_forward_hook(record) for m in model.modules() if m is not model]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(images[:1])
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    large = [module for module, size in seen if size >= min_size]
    if large:
        return large[-1]
    biggest = max(size for _, size in seen)
    return [module for module, size in seen if size == biggest][-1]


class GradCAM:
    """Grad-CAM heatmaps of ``model`` (images -> logits) at ``layer``.

    Default layer: ``resolution_layer(model, images, min_size)``, chosen at the first call. ``model`` may
    return ``(N, K)`` logits, or ``(N,)`` / ``(N, 1)`` for a single-logit binary model (class 1 = the logit,
    class 0 = its negation). Hooks are attached only during ``__call__``.
    """

    def __init__(self, model: nn.Module, layer: nn.Module | None = None, min_size: int = 8) -> None:
        self.model = model
        self.layer = layer
        self.min_size = int(min_size)

    def __call__(
        self, images: torch.Tensor, class_index: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(heatmaps (N, h, w) in 0..1 at the layer's resolution, logits (N, K) detached)``.

        ``class_index`` (N,) picks each image's class; default: the predicted class. A map with no positive
        evidence for the class is all zeros.
        """
        if self.layer is None:
            self.layer = resolution_layer(self.model, images, self.min_size)
        activations: list[torch.Tensor] = []

        def keep(_module: nn.Module, _inputs: object, output: torch.Tensor) -> None:
            output.retain_grad()
            activations.append(output)

        was_training = self.model.training
        self.model.eval()
        handle = self.layer.register_forward_hook(keep)
        try:
            with torch.enable_grad(), torch.inference_mode(False):
                inputs = images.detach().clone().requires_grad_(True)
                logits = self.model(inputs)
                if logits.ndim == 1 or logits.shape[-1] == 1:
                    logits = logits.reshape(-1, 1)
                    logits = torch.cat([-logits, logits], dim=1)
                chosen = logits.argmax(dim=1) if class_index is None else class_index.to(logits.device).long()
                score = logits.gather(1, chosen.view(-1, 1)).sum()
                self.model.zero_grad(set_to_none=True)
                score.backward()
        finally:
            handle.remove()
            self.model.train(was_training)
        feature = activations[-1]
        weights = feature.grad.mean(dim=(2, 3), keepdim=True)
        cam = torch.relu((weights * feature).sum(dim=1)).detach()
        peak = cam.flatten(1).amax(dim=1).clamp_min(1e-12).view(-1, 1, 1)
        return (cam / peak).cpu(), logits.detach().cpu()
