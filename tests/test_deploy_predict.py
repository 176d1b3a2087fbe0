"""`lepton predict` over CSV, Parquet, JSON lines and image folders: same predictor, atomic output, clear errors."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pandas as pd
import pytest

from lepton_core.deploy.batch import predict_file
from lepton_core.deploy.files import count_records, read_chunks
from lepton_core.errors import ConfigError, DataError
from lepton_core.testing.cli import run_lepton


@pytest.fixture(scope="module")
def bundle(example_run: Path) -> Path:
    return example_run / "bundle"


def _example(bundle: Path) -> tuple[list[dict], list[dict]]:
    manifest = json.loads((bundle / "lepton.json").read_text())
    return manifest["input_example"], manifest["output_example"]


def test_predict_csv_through_the_cli(bundle: Path, tmp_path: Path) -> None:
    inputs, outputs = _example(bundle)
    rows = (inputs * 600)[:1100]
    pd.DataFrame(rows).assign(label=1, note="extra columns are ignored").to_csv(tmp_path / "in.csv", index=False)
    proc = run_lepton(["predict", str(bundle), "in.csv", "-o", "out.csv", "--chunk-size", "256"], tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "wrote 1100 predictions" in proc.stdout
    written = pd.read_csv(tmp_path / "out.csv")
    assert list(written.columns) == ["probability", "label"] and len(written) == 1100
    assert written.iloc[:2].to_dict("records") == [pytest.approx(o, abs=1e-6) for o in outputs]


def test_a_bad_row_fails_cleanly_and_writes_nothing(bundle: Path, tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("x1,x2\n0.1,0.2\n0.3,abc\n")
    with pytest.raises(DataError, match=r"bad.csv row 2: field 'x2'"):
        predict_file(bundle, tmp_path / "bad.csv", tmp_path / "out.csv", progress=False)
    (tmp_path / "inf.csv").write_text("x1,x2\n0.1,inf\n")
    with pytest.raises(DataError, match="NaN and infinity"):
        predict_file(bundle, tmp_path / "inf.csv", tmp_path / "out.csv", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "inf.csv"]


def test_parquet_in_jsonl_and_parquet_out(bundle: Path, tmp_path: Path) -> None:
    inputs, outputs = _example(bundle)
    pd.DataFrame(inputs * 5).to_parquet(tmp_path / "in.parquet")
    summary = predict_file(bundle, tmp_path / "in.parquet", tmp_path / "out.jsonl", chunk_size=3, progress=False)
    assert summary.rows == 10 and summary.runtime == "torch"
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert lines[:2] == [pytest.approx(o, abs=1e-6) for o in outputs]
    predict_file(bundle, tmp_path / "in.parquet", tmp_path / "out.parquet", chunk_size=4, progress=False)
    assert pd.read_parquet(tmp_path / "out.parquet").shape == (10, 2)


def test_unknown_input_and_output_types_are_refused(bundle: Path, tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("x")
    with pytest.raises(DataError, match="unknown file type"):
        predict_file(bundle, tmp_path / "in.txt", tmp_path / "out.csv", progress=False)
    pd.DataFrame([{"x1": 0.0, "x2": 0.0}]).to_csv(tmp_path / "in.csv", index=False)
    with pytest.raises(ConfigError, match="output type"):
        predict_file(bundle, tmp_path / "in.csv", tmp_path / "out.xlsx", progress=False)
    with pytest.raises(DataError, match="not found"):
        predict_file(bundle, tmp_path / "missing.csv", tmp_path / "out.csv", progress=False)


def test_image_folders_become_base64_items_keyed_by_file(tmp_path: Path) -> None:
    (tmp_path / "scans" / "b").mkdir(parents=True)
    (tmp_path / "scans" / "a.png").write_bytes(b"\x89PNG fake")
    (tmp_path / "scans" / "b" / "c.dcm").write_bytes(b"DICM fake")
    (tmp_path / "scans" / "notes.txt").write_text("skipped")
    assert count_records(tmp_path / "scans", "image") == 2
    chunks = list(read_chunks(tmp_path / "scans", "image", 1, None, image_field="pixels"))
    assert [c.keys for c in chunks] == [["a.png"], ["b/c.dcm"]]
    assert base64.b64decode(chunks[0].records[0]["pixels"]) == b"\x89PNG fake"
    with pytest.raises(DataError, match="folder of image files"):
        count_records(tmp_path / "scans" / "a.png", "image")


def test_json_lines_and_arrays(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_text('{"a": 1}\n\n{"a": 2}\n{"a": 3}\n')
    chunks = list(read_chunks(tmp_path / "in.jsonl", "json", 2, None))
    assert [c.start for c in chunks] == [0, 2] and chunks[1].records == [{"a": 3}]
    (tmp_path / "in.json").write_text('[{"a": 1}, {"a": 2}]')
    assert next(read_chunks(tmp_path / "in.json", "json", 10, None)).records == [{"a": 1}, {"a": 2}]
    (tmp_path / "bad.jsonl").write_text('{"a": 1}\n{oops\n')
    with pytest.raises(DataError, match="line 2 is not valid JSON"):
        list(read_chunks(tmp_path / "bad.jsonl", "json", 10, None))


def test_grouped_tables_become_one_item_per_group(tmp_path: Path) -> None:
    frame = pd.DataFrame({"unit": ["b", "a", "b", "c"], "t": [1, 2, 3, 4], "v": [0.5, None, 1.5, 2.0]})
    frame.to_parquet(tmp_path / "rows.parquet")
    chunks = list(read_chunks(tmp_path / "rows.parquet", "groups", 2, None, group_field="unit"))
    assert [c.start for c in chunks] == [0, 2]
    assert chunks[0].records == [{"unit": "b", "rows": [{"t": 1, "v": 0.5}, {"t": 3, "v": 1.5}]},
                                 {"unit": "a", "rows": [{"t": 2, "v": None}]}]
    assert count_records(tmp_path / "rows.parquet", "groups") is None
    with pytest.raises(DataError, match=r"rows.parquet has no 'machine' column"):
        next(read_chunks(tmp_path / "rows.parquet", "groups", 2, None, group_field="machine"))
