"""Image classifiers: torchvision backbones (random init or a local weights file) and a small CPU-friendly CNN."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch import nn

from lepton_core.errors import ConfigError, DataError

__all__ = ["ARCHITECTURES", "ImageClassifier", "SmallCNN", "build_backbone"]

ARCHITECTURES = ("small_cnn", "resnet18", "resnet50", "densenet121", "efficientnet_b0")


class SmallCNN(nn.Module):
    """Four conv-BN-ReLU blocks (three with 2x pooling), global average + max pooling and a linear head."""

    def __init__(self, in_channels: int, num_classes: int, width: int = 32) -> None:
        super().__init__()
        widths = (width, width * 2, width * 4, width * 4)
        layers: list[nn.Module] = []
        previous = in_channels
        for index, channels in enumerate(widths):
            layers += [
                nn.Conv2d(previous, channels, 3, padding=1, bias=False),
                nn.BatchNorm2d(channels),
                nn.ReLU(inplace=True),
            ]
            if index < len(widths) - 1:
                layers.append(nn.MaxPool2d(2))
            previous = channels
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Dropout(0.2), nn.Linear(2 * previous, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, num_classes)`` from global average and max pooled features (max finds small findings)."""
        features = self.features(x)
        pooled = torch.cat([features.mean(dim=(2, 3)), features.amax(dim=(2, 3))], dim=1)
        return self.head(pooled)


def _load_weights(model: nn.Module, weights_path: str) -> None:
    """Load a local state dict (.safetensors, .pt, .pth); tensors whose shapes differ (the head) are left out."""
    path = Path(weights_path).expanduser()
    if not path.is_file():
        raise DataError(
            f"model.weights_path not found: {path}", "give a local weights file (nothing is downloaded)"
        )
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch/safetensors raise many types for a bad file
        raise DataError(
            f"{path} is not a readable weights file ({type(exc).__name__})",
            "save a state_dict with torch.save or safetensors",
        ) from None
    state = state.get("state_dict", state) if isinstance(state, dict) else state
    if not isinstance(state, dict):
        raise DataError(f"{path} does not hold a state dict", "save model.state_dict()")
    state = {k.removeprefix("model.").removeprefix("backbone."): v for k, v in state.items()}
    own = model.state_dict()
    usable = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    if not usable:
        raise DataError(
            f"{path}: no tensor matches the {type(model).__name__} architecture", "check model.arch"
        )
    model.load_state_dict(usable, strict=False)


def _first_conv_for(conv: nn.Conv2d, in_channels: int) -> nn.Conv2d:
    """A copy of ``conv`` for ``in_channels`` inputs; grayscale weights are the RGB weights summed."""
    if conv.in_channels == in_channels:
        return conv
    new = nn.Conv2d(
        in_channels,
        conv.out_channels,
        conv.kernel_size,
        conv.stride,
        conv.padding,
        bias=conv.bias is not None,
    )
    with torch.no_grad():
        new.weight.copy_(conv.weight.sum(dim=1, keepdim=True).repeat(1, in_channels, 1, 1) / in_channels)
        if conv.bias is not None:
            new.bias.copy_(conv.bias)
    return new


def build_backbone(
    arch: str, num_classes: int, in_channels: int, weights_path: str | None = None, width: int = 32
) -> nn.Module:
    """The network for ``arch``: weights from scratch or ``weights_path``, never downloaded."""
    if arch not in ARCHITECTURES:
        raise ConfigError(f"model.arch={arch!r} is unknown", f"use one of {', '.join(ARCHITECTURES)}")
    if arch == "small_cnn":
        model: nn.Module = SmallCNN(in_channels, num_classes, width)
        if weights_path:
            _load_weights(model, weights_path)
        return model
    import torchvision

    model = torchvision.models.get_model(arch, weights=None)
    if weights_path:
        _load_weights(model, weights_path)
    if arch.startswith("resnet"):
        model.conv1 = _first_conv_for(model.conv1, in_channels)
        model.fc = nn.Linear(model.fc.in_features, num_classes)
    elif arch == "densenet121":
        model.features.conv0 = _first_conv_for(model.features.conv0, in_channels)
        model.classifier = nn.Linear(model.classifier.in_features, num_classes)
    else:
        model.features[0][0] = _first_conv_for(model.features[0][0], in_channels)
        model.classifier[-1] = nn.Linear(model.classifier[-1].in_features, num_classes)
    return model


class ImageClassifier(L.LightningModule):
    """Cross-entropy training of a backbone with AdamW and a cosine learning-rate schedule.

    ``forward`` maps normalised images ``(N, C, H, W)`` to logits ``(N, num_classes)`` with tensor ops only,
    so the same module serves training, the predictor and ONNX export.
    """

    def __init__(
        self,
        num_classes: int,
        in_channels: int = 1,
        *,
        arch: str,  # no default: the task YAML (training) or the bundle's model_kwargs (serving) decide
        width: int,
        lr: float = 3e-3,
        weight_decay: float = 1e-4,
        label_smoothing: float = 0.0,
        weights_path: str | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.backbone = build_backbone(arch, num_classes, in_channels, weights_path, width)
        self.loss = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
        # logits are divided by it; 1 unless the evaluation's temperature scaling improved validation ECE
        self.register_buffer("temperature", torch.ones(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, num_classes)``, divided by the calibration temperature."""
        return self.backbone(x) / self.temperature

    def _load_from_state_dict(self, state_dict: dict[str, Any], prefix: str, *args: Any, **kwargs: Any) -> None:
        # bundles and checkpoints written before calibration existed carry no temperature: they mean 1
        state_dict.setdefault(f"{prefix}temperature", torch.ones(()))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        images, labels = batch
        loss = self.loss(self(images), labels)
        self.log("train_loss", loss, prog_bar=True, batch_size=len(labels))
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        images, labels = batch
        logits = self(images)
        self.log("val_loss", self.loss(logits, labels), prog_bar=True, batch_size=len(labels))
        self.log(
            "val_accuracy", (logits.argmax(1) == labels).float().mean(), prog_bar=True, batch_size=len(labels)
        )

    def configure_optimizers(self) -> Any:
        optimizer = torch.optim.AdamW(
            self.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay
        )
        epochs = max(int(getattr(self.trainer, "max_epochs", 1) or 1), 1)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
        return {"optimizer": optimizer, "lr_scheduler": schedule}
