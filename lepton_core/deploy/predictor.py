"""The Predictor base class that every plugin's ``lepton_build_predictor`` returns."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Literal

import torch
from pydantic import BaseModel, ValidationError

from lepton_core.errors import DataError

__all__ = ["InputKind", "Predictor"]

InputKind = Literal["table", "image", "json", "frame", "groups"]
ModuleOutputs = torch.Tensor | tuple[torch.Tensor, ...]
_CPU = torch.device("cpu")


class Predictor:
    """Validated items -> tensors -> module -> outputs, in batches.

    Subclasses set ``input_model`` / ``output_model`` (pydantic models of one item) and implement
    ``preprocess`` (items -> tuple of tensors, the module's positional inputs) and ``postprocess``
    (module outputs + items -> one dict per item). ``module`` is built by the plugin and receives the
    bundle's weights from the core. Tasks without weights (a solver) leave ``module`` as None and
    override ``predict_items`` (or ``predict``). ``input_kind`` tells ``lepton predict`` how to read
    input files:

    - ``"table"``: each CSV/Parquet row becomes one item keyed by the input schema's field names (aliases
      when set); other columns are dropped and an empty cell arrives as None. Flat scalar fields only.
    - ``"image"``: each file of an image folder becomes one item ``{image_field: <base64 of the file's
      bytes>}`` (``image_field`` defaults to ``"image"``; standard base64, no ``data:`` prefix). HTTP clients
      send the same shape. Declare ``image: str`` in the input model and decode it in ``preprocess`` with
      ``lepton_core.deploy.decode_base64``; the file's format (PNG, JPEG, DICOM...) is yours to read.
    - ``"json"``: each line of a JSON-lines file (or each element of a JSON array) is one item.
    - ``"frame"``: a whole CSV/Parquet table is one item ``{"rows": [<row as a dict>, ...]}`` (a history the
      model reads at once, such as a price table); JSON inputs are items as for ``"json"``.
    - ``"groups"``: a whole CSV/Parquet table, one item per value of its ``group_field`` column (first
      appearance order): ``{group_field: value, "rows": [<its other columns, row by row>]}`` (the events of
      one order, the readings of one machine); JSON inputs are items as for ``"json"``.

    The server, ``lepton predict`` and ONNX export all go through ``validate`` -> ``predict_items``, so
    ``preprocess`` must return the module's positional tensors (batch first) and ``module.forward`` should
    be pure tensor ops. When ``runner`` is set (ONNX Runtime), ``run_module`` calls it instead of the module.
    """

    input_model: ClassVar[type[BaseModel]]
    output_model: ClassVar[type[BaseModel]]
    input_kind: ClassVar[InputKind] = "json"
    image_field: ClassVar[str] = "image"
    group_field: ClassVar[str] = "id"

    def __init__(self, module: torch.nn.Module | None = None) -> None:
        self.module = module
        self.runner: Callable[[tuple[torch.Tensor, ...]], ModuleOutputs] | None = None

    def preprocess(self, items: Sequence[BaseModel]) -> tuple[torch.Tensor, ...]:
        """Turn validated items into the module's positional input tensors (a batch)."""
        raise NotImplementedError

    def postprocess(self, outputs: ModuleOutputs, items: Sequence[BaseModel]) -> list[dict[str, Any]]:
        """Turn the module's outputs for a batch into one JSON-ready dict per item."""
        raise NotImplementedError

    def run_module(self, inputs: tuple[torch.Tensor, ...]) -> ModuleOutputs:
        """Run the model on a preprocessed batch (the torch module, or ``runner`` when set); outputs on CPU."""
        if self.runner is not None:
            return self.runner(inputs)
        if self.module is None:
            raise NotImplementedError(f"{type(self).__name__} has no module; override predict()")
        parameter = next(self.module.parameters(), None)
        device = parameter.device if parameter is not None else _CPU
        with torch.inference_mode():
            outputs = self.module(*(t.to(device) for t in inputs))
        if device.type == "cpu":
            return outputs
        if isinstance(outputs, tuple):
            return tuple(o.cpu() for o in outputs)
        return outputs.cpu()

    def validate(self, records: Sequence[Mapping[str, Any] | BaseModel]) -> list[BaseModel]:
        """Validate raw records against ``input_model``; a bad record raises DataError naming it and the field."""
        items: list[BaseModel] = []
        for index, record in enumerate(records):
            if isinstance(record, self.input_model):
                items.append(record)
                continue
            try:
                items.append(self.input_model.model_validate(record))
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"]) or "item"
                raise DataError(
                    f"input item {index}: field '{where}': {first['msg']}",
                    "send items that match the bundle's input schema (see `lepton predict --help` or /docs)",
                ) from None
        return items

    def predict(self, records: Sequence[Mapping[str, Any] | BaseModel]) -> list[dict[str, Any]]:
        """Predict a batch of records (dicts or input models) and return one output dict per record."""
        if not records:
            return []
        return self.predict_items(self.validate(records))

    def predict_items(self, items: Sequence[BaseModel]) -> list[dict[str, Any]]:
        """Predict a batch of already validated items (what the server's micro-batcher calls)."""
        if not items:
            return []
        return self.postprocess(self.run_module(self.preprocess(items)), items)

    def items_predictor(self) -> Callable[[Sequence[BaseModel]], list[dict[str, Any]]]:
        """What the server and `lepton predict` call on validated items: ``predict_items``, or ``predict``
        for a predictor that overrides only ``predict`` (a solver without a module)."""
        cls = type(self)
        if cls.predict is not Predictor.predict and cls.predict_items is Predictor.predict_items:
            return self.predict
        return self.predict_items

    @classmethod
    def input_schema(cls) -> dict[str, Any]:
        """JSON schema of one input item."""
        return cls.input_model.model_json_schema()

    @classmethod
    def output_schema(cls) -> dict[str, Any]:
        """JSON schema of one output item."""
        return cls.output_model.model_json_schema()
