"""Validation of raw input records against a predictor's input model, shared by the server and `lepton predict`.

Every field error keeps its path (item index, then field names), so the server can answer 422 with it and
`lepton predict` can name the row. Non-finite numbers (NaN, infinity) are refused whatever the plugin's
model allows: they poison batches and drift statistics.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

__all__ = ["InvalidItems", "ItemValidator", "non_finite_path"]

Location = tuple[str | int, ...]


class InvalidItems(ValueError):
    """Records that do not match the input model; ``errors`` are dicts with ``loc``, ``msg`` and ``type``."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        super().__init__(f"{len(errors)} invalid field(s), first: {errors[0]['loc']}: {errors[0]['msg']}")

    def describe_first(self) -> tuple[int | None, str, str]:
        """(item index, dotted field path, message) of the first error."""
        loc = list(self.errors[0]["loc"])
        index = loc.pop(0) if loc and isinstance(loc[0], int) else None
        return index, ".".join(str(p) for p in loc) or "item", self.errors[0]["msg"]


def non_finite_path(value: Any, path: Location = ()) -> Location | None:
    """Path of the first NaN or infinite float inside ``value`` (dicts and lists are searched), else None."""
    if isinstance(value, float):
        return None if math.isfinite(value) else path
    if isinstance(value, dict):
        for key, child in value.items():
            found = non_finite_path(child, (*path, key))
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found = non_finite_path(child, (*path, index))
            if found is not None:
                return found
    return None


class ItemValidator:
    """Validate a list of raw records into input-model instances in one pydantic-core call."""

    def __init__(self, input_model: type[BaseModel]) -> None:
        self.input_model = input_model
        self._adapter = TypeAdapter(list[input_model])  # type: ignore[valid-type]

    def __call__(self, records: Sequence[Any]) -> list[BaseModel]:
        """Validated items; raises InvalidItems with every field error (NaN/infinity included)."""
        errors = []
        for index, record in enumerate(records):
            where = non_finite_path(record, (index,))
            if where is not None:
                errors.append({"loc": list(where), "msg": "NaN and infinity are not accepted", "type": "finite_number"})
        if errors:
            raise InvalidItems(errors)
        try:
            return self._adapter.validate_python(records)
        except ValidationError as exc:
            raise InvalidItems(
                [
                    {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
                    for e in exc.errors(include_url=False, include_context=False, include_input=False)
                ]
            ) from None
