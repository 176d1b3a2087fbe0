"""What a pathology bundle keeps: the MIL network (safetensors), plain constructor arguments and the tiling."""

from __future__ import annotations

from typing import Any

from lepton_core import Evaluation, Export, RunContext

__all__ = ["export_pathology"]


def export_pathology(ctx: RunContext, datamodule: Any, model: Any, evaluation: Evaluation | None = None) -> Export:
    """The network, its kwargs without any file path, the tiling and normalisation state, a made-up example slide."""
    kwargs = {**dict(model.hparams), "weights_path": None}  # a bundle never names a file to read
    return Export(module=model, model_kwargs=kwargs, state=datamodule.export_state(), input_example=datamodule.input_example())
