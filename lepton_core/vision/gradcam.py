"""Grad-CAM (Selvaraju et al., 2017) for any convolutional classifier, with forward and tensor hooks.

The heatmap of class c is ReLU(sum_k w_k A_k), where A_k are the activations of a chosen convolutional layer
and w_k the spatial mean of d logit_c / d A_k. It shows which regions pushed the model towards c.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["GradCAM", "last_conv_layer"]


def last_conv_layer(model: nn.Module) -> nn.Module:
    """The last ``nn.Conv2d`` of ``model`` in registration order (a sensible default Grad-CAM layer)."""
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ValueError(f"{type(model).__name__} has no Conv2d layer for Grad-CAM")
    return convs[-1]


class GradCAM:
    """Grad-CAM heatmaps of ``model`` (images -> logits) at ``layer`` (default: its last Conv2d).

    ``model`` may return ``(N, K)`` logits, or ``(N,)`` / ``(N, 1)`` for a single-logit binary model
    (class 1 = the logit, class 0 = its negation). Hooks are attached only during ``__call__``.
    """

    def __init__(self, model: nn.Module, layer: nn.Module | None = None) -> None:
        self.model = model
        self.layer = layer or last_conv_layer(model)

    def __call__(
        self, images: torch.Tensor, class_index: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(heatmaps (N, h, w) in 0..1 at the layer's resolution, logits (N, K) detached)``.

        ``class_index`` (N,) picks each image's class; default: the predicted class.
        """
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
