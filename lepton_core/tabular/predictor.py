"""TabularPredictor: JSON rows with the training columns -> (x_num, x_cat) -> a tabular module.

The input schema is built per bundle from the fitted preprocessor: one field per training column
(numeric -> finite number or null; categorical -> text/number/bool or null), every field required
(send null when unknown), unknown fields refused, an optional id field echoed back, and an example row.
Column names are field aliases, so any column name works. Subclasses set ``output_model`` and write
``postprocess``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import pandas as pd
import torch
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model

from lepton_core.deploy.predictor import Predictor
from lepton_core.tabular.preprocessing import TabularPreprocessor

__all__ = ["TabularPredictor", "row_model"]


def _finite(value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise ValueError("must be a finite number or null")
    return value


NumericValue = Annotated[float | None, AfterValidator(_finite)]
CategoryValue = str | int | float | bool | None


def row_model(
    name: str,
    preprocessor: TabularPreprocessor,
    id_column: str | None = None,
    example: Mapping[str, Any] | None = None,
    bounds: Mapping[str, Sequence[float]] | None = None,
) -> type[BaseModel]:
    """A pydantic model of one input row with the preprocessor's columns (aliases = column names).

    ``bounds`` maps numeric columns to ``[low, high]``: values outside are refused (other columns ignored).
    """
    fields: dict[str, Any] = {}
    for i, column in enumerate(preprocessor.columns):
        kind = "numeric" if column in preprocessor.numeric else "categorical"
        annotation = NumericValue if kind == "numeric" else CategoryValue
        limits: dict[str, float] = {}
        if kind == "numeric" and bounds and column in bounds:
            limits = {"ge": float(bounds[column][0]), "le": float(bounds[column][1])}
        fields[f"column_{i}"] = (annotation, Field(..., alias=column, description=f"{kind} column '{column}'", **limits))
    if id_column:
        fields["row_id"] = (
            str | int | None,
            Field(None, alias=id_column, description="optional row id, echoed back in the output"),
        )
    config = ConfigDict(
        extra="forbid",
        populate_by_name=False,
        json_schema_extra={"examples": [dict(example)]} if example else None,
    )
    return create_model(name, __config__=config, **fields)


class TabularPredictor(Predictor):
    """Validates rows against a per-bundle schema and turns them into the module's (x_num, x_cat) inputs."""

    input_kind = "table"

    def __init__(self, module: torch.nn.Module, preprocessor: TabularPreprocessor, id_column: str | None = None) -> None:
        super().__init__(module)
        self.preprocessor = preprocessor
        self.id_column = id_column

    @classmethod
    def with_input_model(cls, input_model: type[BaseModel]) -> type[TabularPredictor]:
        """A subclass bound to one bundle's row schema (``input_model`` is class-level in the base contract)."""
        return type(cls.__name__, (cls,), {"input_model": input_model, "__module__": cls.__module__})

    def rows_frame(self, items: Sequence[BaseModel]) -> pd.DataFrame:
        """Validated items as a DataFrame with the training column names."""
        records = [item.model_dump(by_alias=True) for item in items]
        return pd.DataFrame.from_records(records, columns=[*self.preprocessor.columns, *self._id_alias()])

    def _id_alias(self) -> list[str]:
        return [self.id_column] if self.id_column else []

    def row_ids(self, items: Sequence[BaseModel]) -> list[Any]:
        """The id of each item (None when absent or when the bundle has no id column)."""
        return [getattr(item, "row_id", None) for item in items]

    def preprocess(self, items: Sequence[BaseModel]) -> tuple[torch.Tensor, ...]:
        """Rows -> (x_num, x_cat) with the bundle's fitted preprocessing."""
        return self.preprocessor.transform(self.rows_frame(items))
