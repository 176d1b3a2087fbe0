"""`lepton run ... launcher=spark`: Lightning DDP across Spark executors (TorchDistributor) on local[2] gives the
same single run directory and bundle as `trainer=ddp`, each rank streaming its own Parquet shard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from lepton_core.spark.session import find_java, java_major_version
from lepton_core.testing.cli import latest_run, run_lepton

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install lepton-core[spark])")
JAVA = find_java()
if JAVA is None or (java_major_version(JAVA) or 17) < 17:
    pytest.skip(
        "Spark needs Java 17+ and none was found (JAVA_HOME or java on PATH)", allow_module_level=True
    )

STREAMED_CREDIT = [
    "run",
    "plugin=finance",
    "task=credit_scoring",
    "data.path=credit.parquet",
    "data.target=default",
    "data.streaming=true",
    "data.streaming_sample_rows=400",
    "data.drop=[applicant_id,application_date]",
    "debug=smoke",
]


def _job_dirs(root: Path) -> set[Path]:
    return {p.parent for p in root.rglob("*.log")} | {p.parent for p in root.rglob(".hydra")}


@pytest.mark.slow
def test_spark_launcher_trains_the_same_bundle_as_trainer_ddp(tmp_path: Path) -> None:
    from lepton_finance.demo import DEMOS

    runs = {}
    for name, extra in {
        "ddp": ["trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=2"],
        "spark": ["launcher=spark"],
    }.items():
        out = tmp_path / name
        out.mkdir()
        DEMOS["credit"][1](n_rows=2000, seed=0).to_parquet(out / "credit.parquet", row_group_size=250)
        proc = run_lepton([*STREAMED_CREDIT, *extra], out, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert "Traceback" not in proc.stderr
        runs[name] = latest_run(out, "finance", "credit_scoring")
        assert _job_dirs(out) == {runs[name]}, "one run directory, written by rank 0 only"
    spark_cfg = yaml.safe_load((runs["spark"] / ".hydra" / "config.yaml").read_text())
    assert spark_cfg["launcher"]["name"] == "spark" and spark_cfg["launcher"]["num_processes"] == 2
    assert spark_cfg["trainer"]["strategy"] == "ddp" and spark_cfg["trainer"]["devices"] == 1
    manifests = {name: json.loads((run / "bundle" / "lepton.json").read_text()) for name, run in runs.items()}
    assert (
        manifests["spark"]["files"]["weights.safetensors"] == manifests["ddp"]["files"]["weights.safetensors"]
    ), "two Spark ranks must train exactly what two DDP processes train"
    metrics = {name: json.loads((run / "metrics.json").read_text())["metrics"] for name, run in runs.items()}
    assert metrics["spark"] == metrics["ddp"]


def test_spark_launcher_checks_its_settings_before_starting_spark(tmp_path: Path) -> None:
    proc = run_lepton(["run", "plugin=example", "launcher=spark", "trainer.devices=2"], tmp_path, timeout=120)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert (
        proc.stderr.strip()
        .splitlines()[-1]
        .startswith(
            "error: launcher=spark runs one rank per Spark task, but trainer.devices=2 and trainer.num_nodes=2"
        )
    )
    assert not list(tmp_path.rglob("metrics.json"))
