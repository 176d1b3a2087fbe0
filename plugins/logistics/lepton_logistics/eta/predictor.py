"""The eta predictor: raw delivery rows in (the table's own columns), P50/P90 delivery time out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import torch
from pydantic import BaseModel, ConfigDict, Field, create_model

from lepton_core.hooks.specs import DeployContext
from lepton_core.tabular import TabularPredictor, TabularPreprocessor
from lepton_core.tabular.predictor import CategoryValue, NumericValue
from lepton_logistics.eta.features import DeliveryFeatures
from lepton_logistics.eta.model import EtaRegressor


class EtaPrediction(BaseModel):
    """Delivery time quantiles, in the target's unit (minutes for the demo)."""

    p50: float = Field(description="median delivery time")
    p90: float = Field(description="delivery time met 90% of the time")
    id: str | int | None = None


def raw_row_model(
    preprocessor: TabularPreprocessor, raw_columns: Sequence[str], features: DeliveryFeatures,
    id_column: str | None, example: Mapping[str, Any] | None,
) -> type[BaseModel]:
    """One input row: the raw training columns (numbers or categories), the timestamp as text; null = unknown."""
    fields: dict[str, Any] = {}
    for i, column in enumerate(raw_columns):
        if column == features.time_column:
            annotation, kind = str | None, "timestamp"
        elif column in preprocessor.numeric:
            annotation, kind = NumericValue, "numeric"
        else:
            annotation, kind = CategoryValue, "categorical"
        fields[f"column_{i}"] = (annotation, Field(..., alias=column, description=f"{kind} column '{column}'"))
    if id_column:
        fields["row_id"] = (str | int | None, Field(None, alias=id_column, description="optional id, echoed back"))
    config = ConfigDict(extra="forbid", json_schema_extra={"examples": [dict(example)]} if example else None)
    return create_model("DeliveryRow", __config__=config, **fields)


class EtaPredictor(TabularPredictor):
    """Derive geo/time features from raw rows, encode, run the network, return P50/P90."""

    output_model = EtaPrediction

    def __init__(self, module: torch.nn.Module, preprocessor: TabularPreprocessor, features: DeliveryFeatures,
                 raw_columns: Sequence[str], id_column: str | None = None) -> None:
        super().__init__(module, preprocessor, id_column)
        self.features = features
        self.raw_columns = list(raw_columns)

    @classmethod
    def from_context(cls, ctx: DeployContext) -> EtaPredictor:
        """Rebuild preprocessing, derivation and the network from the bundle."""
        state = ctx.state
        preprocessor = TabularPreprocessor.from_state(state["preprocessor"])
        features = DeliveryFeatures.from_state(state["features"])
        example = (ctx.manifest.get("input_example") or [None])[0]
        module = ctx.build_model(EtaRegressor)
        input_model = raw_row_model(preprocessor, state["raw_columns"], features, state.get("id_column"), example)
        bound = cls.with_input_model(input_model)
        return bound(module, preprocessor, features, state["raw_columns"], state.get("id_column"))

    def rows_frame(self, items: Sequence[BaseModel]) -> pd.DataFrame:
        """Validated rows as a frame with the derived features added."""
        records = [item.model_dump(by_alias=True) for item in items]
        frame = pd.DataFrame.from_records(records, columns=[*self.raw_columns, *self._id_alias()])
        return self.features.add_to(frame)

    def postprocess(self, outputs: Any, items: Sequence[BaseModel]) -> list[dict[str, Any]]:
        """P50/P90 per row (and the row id when the bundle has an id column)."""
        values = torch.as_tensor(outputs).tolist()
        ids = self.row_ids(items)
        return [
            {"p50": float(p50), "p90": float(p90), **({"id": i} if self.id_column else {})}
            for (p50, p90), i in zip(values, ids)
        ]
