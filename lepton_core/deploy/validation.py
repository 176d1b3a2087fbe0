"""Validation of raw input records against a predictor's input model, shared by the server and `lepton predict`.

Every field error keeps its path (item index, then field names), so the server can answer 422 with it and
`lepton predict` can name the row. Non-finite numbers (NaN, infinity), strings that are not valid Unicode
(a lone surrogate such as ``"\\ud800"``) and values nested deeper than ``MAX_DEPTH`` are refused whatever the
plugin's model allows: they poison batches and drift statistics, or cost a request far more than its size.

The work is bounded: records are validated in chunks and validation stops once ``max_errors`` problems are
collected, so a body of thousands of broken items costs about as much as one with ``max_errors`` of them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

__all__ = ["MAX_DEPTH", "MAX_ERRORS", "InvalidItems", "ItemValidator", "bad_value_path", "non_finite_path"]

Location = tuple[str | int, ...]
MAX_DEPTH = 32
"""Deepest nesting of lists and objects accepted inside one item."""
MAX_ERRORS = 20
"""Field errors collected before validation stops."""
CHUNK = 256


class InvalidItems(ValueError):
    """Records that do not match the input model.

    ``errors`` (dicts with ``loc``, ``msg`` and ``type``) are the first ones found, at most ``max_errors``;
    ``more`` counts further errors found in the items checked, ``unchecked`` the items left unchecked.
    """

    def __init__(self, errors: list[dict[str, Any]], more: int = 0, unchecked: int = 0) -> None:
        self.errors = errors
        self.more = more
        self.unchecked = unchecked
        super().__init__(f"{len(errors) + more} invalid field(s), first: {errors[0]['loc']}: {errors[0]['msg']}")

    def describe_first(self) -> tuple[int | None, str, str]:
        """(item index, dotted field path, message) of the first error."""
        loc = list(self.errors[0]["loc"])
        index = loc.pop(0) if loc and isinstance(loc[0], int) else None
        return index, ".".join(str(p) for p in loc) or "item", self.errors[0]["msg"]


def _text_problem(value: str) -> str | None:
    if value.isascii():
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "text is not valid Unicode (a lone surrogate such as \\ud800)"
    return None


def bad_value_path(value: Any, path: Location = (), depth: int = 0) -> tuple[Location, str, str] | None:
    """(path, message, type) of the first value that no model may accept, else None.

    That is a NaN or infinite float, a string (or key) that is not valid Unicode, or nesting deeper than
    ``MAX_DEPTH``. The walk never recurses past ``MAX_DEPTH``.
    """
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, "NaN and infinity are not accepted", "finite_number")
    if isinstance(value, str):
        problem = _text_problem(value)
        return None if problem is None else (path, problem, "string_unicode")
    if isinstance(value, (dict, list)):
        if depth >= MAX_DEPTH:
            return path, f"nested deeper than {MAX_DEPTH} levels", "too_deep"
        children = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in children:
            if isinstance(key, str) and _text_problem(key) is not None:
                return path, "a field name is not valid Unicode (a lone surrogate)", "string_unicode"
            found = bad_value_path(child, (*path, key), depth + 1)
            if found is not None:
                return found
    return None


def non_finite_path(value: Any, path: Location = ()) -> Location | None:
    """Path of the first NaN or infinite float inside ``value`` (dicts and lists are searched), else None."""
    found = bad_value_path(value, path)
    return found[0] if found is not None and found[2] == "finite_number" else None


class ItemValidator:
    """Validate a list of raw records into input-model instances, a few hundred per pydantic-core call."""

    def __init__(self, input_model: type[BaseModel], max_errors: int = MAX_ERRORS) -> None:
        self.input_model = input_model
        self.max_errors = max_errors
        self._adapter = TypeAdapter(list[input_model])  # type: ignore[valid-type]

    def __call__(self, records: Sequence[Any]) -> list[BaseModel]:
        """Validated items; raises InvalidItems with the first ``max_errors`` field errors and a count of more."""
        items: list[BaseModel] = []
        errors: list[dict[str, Any]] = []
        more = 0
        for start in range(0, len(records), CHUNK):
            chunk = records[start : start + CHUNK]
            valid, found, count = self._validate_chunk(chunk, start)
            items += valid
            room = self.max_errors - len(errors)
            errors += found[:room]
            more += count - len(found[:room])
            if len(errors) >= self.max_errors and start + CHUNK < len(records):
                raise InvalidItems(errors, more, len(records) - start - CHUNK)
        if errors:
            raise InvalidItems(errors, more)
        return items

    def _validate_chunk(
        self, chunk: Sequence[Any], start: int
    ) -> tuple[list[BaseModel], list[dict[str, Any]], int]:
        """(items, the first ``max_errors`` errors with paths from ``start``, the chunk's error count)."""
        bad = []
        for index, record in enumerate(chunk, start):
            found = bad_value_path(record, (index,))
            if found is not None:
                bad.append({"loc": list(found[0]), "msg": found[1], "type": found[2]})
        if bad:
            return [], bad[: self.max_errors], len(bad)
        try:
            return self._adapter.validate_python(chunk), [], 0
        except ValidationError as exc:
            shown = exc.errors(include_url=False, include_context=False, include_input=False)[: self.max_errors]
            errors = [{"loc": [e["loc"][0] + start, *e["loc"][1:]], "msg": e["msg"], "type": e["type"]} for e in shown]
            return [], errors, exc.error_count()
