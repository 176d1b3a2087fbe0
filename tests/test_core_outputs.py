"""Run and predict outputs: repeated columns refused, made-up input examples, -o never the input, full disks."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lepton_core.errors import ConfigError, DataError
from lepton_core.tabular.datamodule import typical_frame_rows, typical_rows
from lepton_core.tabular.io import read_table
from lepton_core.tabular.preprocessing import TabularPreprocessor
from lepton_core.testing.cli import run_lepton


def test_a_repeated_column_name_is_a_data_error_not_a_renamed_feature(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("age,default,income,default\n30,1,5,1\n40,0,6,0\n")
    assert list(pd.read_csv(path).columns) == ["age", "default", "income", "default.1"]  # what pandas does
    with pytest.raises(DataError, match=r"t\.csv has repeated column names: default\."):
        read_table(path)
    import pyarrow as pa
    import pyarrow.parquet as pq

    parquet = tmp_path / "t.parquet"
    pq.write_table(pa.table([pa.array([1, 2]), pa.array([3, 4])], names=["x", "x"]), parquet)
    with pytest.raises(DataError, match="repeated column names: x"):
        read_table(parquet)


def test_input_examples_are_made_up_from_the_fitted_state() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"income": rng.normal(50, 10, 200).round(3), "city": rng.choice(["a", "b", "c"], 200, p=[0.6, 0.3, 0.1])}
    )
    pre = TabularPreprocessor().fit(frame)
    first, second = typical_rows(pre, id_column="applicant_id")
    assert first == {"income": float(frame.income.median()), "city": "a", "applicant_id": "example-1"}
    assert second == {"income": pytest.approx(frame.income.mean()), "city": "b", "applicant_id": "example-2"}
    rows = {tuple(r) for r in frame.itertuples(index=False)}
    assert (first["income"], first["city"]) not in rows and (second["income"], second["city"]) not in rows
    when = pd.DataFrame({"at": ["2024-01-01 10:00", "2024-01-03 10:00", "2024-01-02 10:00"], "n": [1, 2, 9]})
    assert typical_frame_rows(when)[0] == {"at": "2024-01-02T10:00:00", "n": 2.0}


def test_predict_refuses_to_write_over_its_input(tmp_path: Path) -> None:
    from lepton_core.deploy.batch import predict_file

    path = tmp_path / "in.csv"
    path.write_text("x1,x2\n0.1,0.2\n")
    (tmp_path / "link.csv").symlink_to(path)
    for output in (path, tmp_path / "." / "in.csv", tmp_path / "link.csv"):
        with pytest.raises(ConfigError, match="is the input file"):
            predict_file(tmp_path / "no-bundle", path, output, progress=False)
    assert path.read_text() == "x1,x2\n0.1,0.2\n"


@contextmanager
def _full_disk(folder: Path) -> Iterator[Path]:
    """A tiny tmpfs at ``folder``, filled up (skips where mounting is not permitted)."""
    folder.mkdir()
    command = ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)]
    mounted = subprocess.run(command, check=False, capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        with pytest.raises(OSError, match="No space left"), (folder / "filler").open("wb", buffering=0) as handle:
            while True:
                handle.write(b"\0" * 4096)
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_full_disk_is_a_one_line_usage_error(tmp_path: Path, example_run: Path) -> None:
    (tmp_path / "in.csv").write_text("x1,x2\n0.1,0.2\n")
    with _full_disk(tmp_path / "full") as full:
        predicted = run_lepton(
            ["predict", str(example_run / "bundle"), str(tmp_path / "in.csv"), "-o", str(full / "p" / "out.csv")],
            tmp_path,
        )
        ran = run_lepton(["run", "plugin=example", "debug=smoke"], full / "outputs", cwd=tmp_path)
        left = sorted(str(p.relative_to(full)) for p in full.rglob("*") if p.is_file() and p.name != "filler")
    assert predicted.returncode == 2, predicted.stderr[-2000:]
    assert predicted.stderr.strip().splitlines()[-1].startswith("error: cannot write the predictions to ")
    assert "No space left on device" in predicted.stderr and "Traceback" not in predicted.stderr
    assert ran.returncode == 2, ran.stderr[-2000:]
    assert "No space left on device" in ran.stderr.strip().splitlines()[-1] and "Traceback" not in ran.stderr
    assert not [p for p in left if p.endswith(("out.csv", "metrics.json", "report.html", "lepton.json"))], left
