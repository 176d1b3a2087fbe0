"""input_kind 'frame': `lepton predict` reads a whole CSV or Parquet table as one item {"rows": [...]}."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from lepton_core.deploy.files import count_records, read_chunks


@pytest.mark.parametrize("name", ["prices.csv", "prices.parquet"])
def test_a_table_is_one_item_of_rows(tmp_path: Path, name: str) -> None:
    frame = pd.DataFrame({"date": ["2024-01-02", "2024-01-03", "2024-01-04"], "a": [1.0, 1.1, None], "b": [2.0, 2.1, 2.2]})
    path = tmp_path / name
    frame.to_csv(path, index=False) if name.endswith(".csv") else frame.to_parquet(path)
    assert count_records(path, "frame") == 1
    (chunk,) = list(read_chunks(path, "frame", chunk_size=2, fields=None))
    (item,) = chunk.records
    assert item["rows"][0] == {"date": "2024-01-02", "a": 1.0, "b": 2.0} and item["rows"][2]["a"] is None
