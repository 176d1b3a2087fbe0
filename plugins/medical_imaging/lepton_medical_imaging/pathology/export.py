"""What a pathology bundle keeps: the MIL network (safetensors), plain constructor arguments and the tiling."""

from __future__ import annotations

from typing import Any

from lepton_core import Export

__all__ = ["export_pathology"]


def export_pathology(datamodule: Any, model: Any) -> Export:
    """The network, its kwargs without any file path, the tiling and normalisation state, a made-up example slide."""
    kwargs = {**dict(model.hparams), "weights_path": None}  # a bundle never names a file to read
    return Export(module=model, model_kwargs=kwargs, state=datamodule.export_state(), input_example=datamodule.input_example())
