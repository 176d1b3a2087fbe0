"""The live monitor's hot path: what one batch writes to the log, and which predictions it keeps in memory."""

from __future__ import annotations

import time
from pathlib import Path

from lepton_core.monitoring import LogSettings, WindowSpec
from lepton_core.monitoring.live import LiveMonitor
from lepton_core.monitoring.log import read_segments, seal_segment
from lepton_core.monitoring.profile import BINARY, MonitorProfile

PROFILE = MonitorProfile("p", "t", "v1", {}, kind=BINARY, output_field="probability")


def _request(request_id: str, *values: object) -> tuple[str, float, list[dict[str, object]], list[dict[str, object]]]:
    return request_id, time.perf_counter(), [{"x": v} for v in values], [{"probability": 0.5, "label": 1} for _ in values]


def test_a_batch_is_in_the_log_file_when_record_returns(tmp_path: Path) -> None:
    monitor = LiveMonitor(PROFILE, WindowSpec(4, 2), LogSettings(tmp_path, max_field_bytes=64))
    nan_output = ("c", time.perf_counter(), [{"x": 1.0}], [{"probability": float("nan"), "label": 1}])
    monitor.record([_request("a", "s" * 100, "short"), _request("b", 2**70), nan_output])
    active = read_segments(tmp_path, "predictions")  # the JSON-lines segment, before any seal
    assert [(r["request_id"], r["item"]) for r in active] == [("a", 0), ("a", 1), ("b", 0), ("c", 0)]
    assert [r["inputs"]["x"] for r in active[:3]] == [{"truncated_bytes": 100}, "short", 2**70]
    assert active[3]["outputs"]["probability"] is None and active[0]["model_version"] == "v1"
    monitor.close()
    assert read_segments(tmp_path, "predictions") == active and not list(tmp_path.glob("*.jsonl"))


def test_memory_keeps_the_last_capacity_items_and_their_labels() -> None:
    monitor = LiveMonitor(PROFILE, WindowSpec(4, 2), capacity_windows=2)  # 8 items in memory, first window of 4
    for index in range(5):
        monitor.record([_request(f"r{index}", 0.1, 0.2, 0.3)])  # items 0-14: the last 8 are 7-14
    answer = monitor.feedback([{"request_id": r, "item": i, "label": 1} for r, i in
                               (("r0", 0), ("r1", 0), ("r1", 2), ("r2", 0), ("r2", 1), ("r4", 2), ("r4", 3), ("r9", 0))])
    assert answer["accepted"] == 4  # r0.0, r1.0 (items 0, 3: first window), r2.1 (item 7), r4.2 (item 14)
    assert answer["unknown"] == ["r1", "r2", "r4", "r9"]
    snapshot = monitor.snapshot()
    assert snapshot["predictions_total"] == 15 and snapshot["current"]["count"] == 4
    assert [w["index"] for w in snapshot["windows"]] == [2, 3]  # tumbling windows from item 8 on


def test_sealing_reads_older_nan_lines_and_skips_a_torn_last_line(tmp_path: Path) -> None:
    segment = tmp_path / "predictions-000001.jsonl"
    segment.write_bytes(b'{"request_id":"a","item":0,"inputs":{"x":1},"outputs":{"probability":NaN}}\n{"request_id":"b","it')
    assert seal_segment(segment) == tmp_path / "predictions-000001.parquet" and not segment.exists()
    (record,) = read_segments(tmp_path, "predictions")
    assert record["request_id"] == "a" and record["inputs"] == {"x": 1} and record["outputs"]["probability"] is None
