"""The bad-input suite: one table of bad inputs (CLI arguments, configs, data files, images, DICOM, bundles,
HTTP requests). Every one must fail with one clear `error:` line (or a JSON `detail` over HTTP), the
documented exit code (docs/exit-codes.md) or HTTP status, no traceback, and nothing left behind that looks
like a valid bundle, report or prediction file.

Each CLI case runs `lepton` in a process of its own, forked from this one once the heavy imports are done
(torch, lightning, pandas, the plugins): real exit codes and real stderr, without paying the imports 45 times."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from lepton_core.errors import EXIT_CODES
from lepton_core.testing.cli import fork_lepton

ROOT = Path(__file__).parents[1]
CONFIG, DATA, BUNDLE = (
    EXIT_CODES["config or usage error"],
    EXIT_CODES["data error"],
    EXIT_CODES["bundle error"],
)
FINANCE = ["run", "plugin=finance", "task=credit_scoring", "debug=smoke"]
MEDICAL = ["run", "plugin=medical_imaging", "debug=smoke"]


@dataclass(frozen=True)
class Case:
    """One bad input: what to run (built in its own directory), and how it must fail."""

    name: str
    kind: str  # "cli" or "http"
    expect: int  # exit code, or HTTP status
    message: str  # a regular expression the error line (or detail) must match
    args: Callable[[Path, Path], list[str]] | None = None  # (case dir, example bundle) -> CLI arguments
    http: tuple[str, str, bytes] | None = None  # method, path, body
    outputs: tuple[str, ...] = field(
        default=()
    )  # files that must not exist afterwards (relative to the case dir)


# ---------------------------------------------------------------------------- data builders


def _credit(n: int = 300) -> pd.DataFrame:
    from lepton_finance.demo import DEMOS

    return DEMOS["credit"][1](n_rows=n, seed=0).drop(columns=["applicant_id", "application_date"])


def _csv(directory: Path, frame: pd.DataFrame, name: str = "table.csv") -> Path:
    frame.to_csv(directory / name, index=False)
    return directory / name


def _credit_with(
    change: Callable[[pd.DataFrame], pd.DataFrame], n: int = 300
) -> Callable[[Path, Path], list[str]]:
    def args(directory: Path, _: Path) -> list[str]:
        path = _csv(directory, change(_credit(n)))
        return [*FINANCE, f"data.path={path}", "data.target=default"]

    return args


def _set(column: str, values: object) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        frame[column] = values if not callable(values) else values(frame)
        return frame

    return change


def _finance_file(name: str, content: bytes | None) -> Callable[[Path, Path], list[str]]:
    def args(directory: Path, _: Path) -> list[str]:
        if content is not None:
            (directory / name).write_bytes(content)
        return [*FINANCE, f"data.path={directory / name}", "data.target=default"]

    return args


def _png(path: Path, seed: int) -> None:
    from PIL import Image

    pixels = np.random.default_rng(seed).integers(0, 255, size=(16, 16), dtype=np.uint8)
    Image.fromarray(pixels).save(path)


def _image_folder(
    corrupt: bool = False, classes: tuple[str, ...] = ("a", "b")
) -> Callable[[Path, Path], list[str]]:
    def args(directory: Path, _: Path) -> list[str]:
        root = directory / "images"
        for c, name in enumerate(classes):
            (root / name).mkdir(parents=True)
            for i in range(6):
                _png(root / name / f"{i}.png", seed=10 * c + i)
        if corrupt:
            (root / classes[0] / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
        return [*MEDICAL, f"data.path={root}"]

    return args


def _dicom_folder(directory: Path, _: Path) -> list[str]:
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

    root = directory / "dicom"
    root.mkdir()
    rows = []
    for i in range(12):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset(str(root / f"s{i}.dcm"), {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
        ds.Rows = ds.Columns = 16
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        ds.PixelData = np.random.default_rng(i).integers(0, 4000, size=(16, 16), dtype=np.uint16).tobytes()
        ds.save_as(root / f"s{i}.dcm", enforce_file_format=True)
        rows.append({"file": f"s{i}.dcm", "label": "ab"[i % 2]})
    (root / "s3.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\xff" * 7)  # corrupt: a header and nothing else
    pd.DataFrame(rows).to_csv(root / "labels.csv", index=False)
    return [*MEDICAL, f"data.path={root}", "data.format=dicom"]


def _predict(rows: pd.DataFrame | bytes | None, name: str = "in.csv") -> Callable[[Path, Path], list[str]]:
    def args(directory: Path, bundle: Path) -> list[str]:
        if isinstance(rows, pd.DataFrame):
            rows.to_csv(directory / name, index=False)
        elif rows is not None:
            (directory / name).write_bytes(rows)
        return [
            "predict",
            str(bundle),
            str(directory / name),
            "-o",
            str(directory / "out.csv"),
            "--no-progress",
        ]

    return args


def _broken_bundle(breaks: Callable[[Path], None]) -> Callable[[Path, Path], list[str]]:
    def args(directory: Path, bundle: Path) -> list[str]:
        copy = directory / "bundle"
        shutil.copytree(bundle, copy)
        breaks(copy)
        pd.DataFrame({"x1": [0.1], "x2": [0.2]}).to_csv(directory / "in.csv", index=False)
        return [
            "predict",
            str(copy),
            str(directory / "in.csv"),
            "-o",
            str(directory / "out.csv"),
            "--no-progress",
        ]

    return args


def _flip_a_byte(bundle: Path) -> None:
    weights = bundle / "weights.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))


def _point(**values: object) -> bytes:
    return json.dumps(values).encode()


def _retail_missing_columns(directory: Path, _: Path) -> list[str]:
    path = _csv(
        directory, pd.DataFrame({"store": ["a"] * 40, "day": pd.date_range("2024-01-01", periods=40)})
    )
    return ["run", "plugin=retail", "task=sales_forecasting", "debug=smoke", f"data.path={path}"]


def _eta_text_target(directory: Path, _: Path) -> list[str]:
    frame = pd.DataFrame({"distance_km": np.linspace(1, 30, 200), "delivery_minutes": ["fast"] * 200})
    return ["run", "plugin=logistics", "task=eta", "debug=smoke", f"data.path={_csv(directory, frame)}"]


def _maintenance_missing_unit(directory: Path, _: Path) -> list[str]:
    frame = pd.DataFrame({"cycle": np.arange(100), "s1": np.random.default_rng(0).normal(size=100)})
    return [
        "run",
        "plugin=manufacturing",
        "task=predictive_maintenance",
        "debug=smoke",
        f"data.path={_csv(directory, frame)}",
    ]


def _defect_folder_with_a_broken_image(directory: Path, _: Path) -> list[str]:
    root = directory / "surfaces"
    for name in ("normal", "abnormal"):
        (root / name).mkdir(parents=True)
        for i in range(8):
            _png(root / name / f"{i}.png", seed=i)
    (root / "normal" / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 30)
    return ["run", "plugin=manufacturing", "task=defect_detection", "debug=smoke", f"data.path={root}"]


def _routing_problem_without_depot_lon(directory: Path, _: Path) -> list[str]:
    (directory / "route.json").write_text('{"depot": {"lat": 52.5}, "orders": []}')
    return ["run", "plugin=logistics", "task=route_optimization", f"data.path={directory / 'route.json'}"]


def _order_lines_with(qty: list[int]) -> Callable[[Path, Path], list[str]]:
    def build(directory: Path, _: Path) -> list[str]:
        frame = pd.DataFrame({"date": ["2025-01-01"] * len(qty), "order_id": [f"o{i}" for i in range(len(qty))],
                              "sku": ["a"] * len(qty), "qty": qty})
        return ["run", "plugin=logistics", "task=warehouse", "debug=smoke", f"data.path={_csv(directory, frame)}"]

    return build


def _ratings_without_item_column(directory: Path, _: Path) -> list[str]:
    path = _csv(directory, pd.DataFrame({"user": [1, 2, 3], "thing": [4, 5, 6]}))
    return ["run", "plugin=retail", "task=recommendation", "debug=smoke", f"data.path={path}"]


def _inventory(demand_change: Callable[[pd.DataFrame], pd.DataFrame], skus: pd.DataFrame | None = None) -> Callable[[Path, Path], list[str]]:
    def args(directory: Path, _: Path) -> list[str]:
        from lepton_manufacturing.inventory.demo import make_part_demand

        extra = [f"data.parameters_path={_csv(directory, skus, 'skus.csv')}"] if skus is not None else []
        path = _csv(directory, demand_change(make_part_demand(n_skus=3, n_days=200, seed=0)))
        return ["run", "plugin=manufacturing", "task=inventory", "debug=smoke", f"data.path={path}", *extra]

    return args


def _transactions(*extra: str, refund: bool = False) -> Callable[[Path, Path], list[str]]:
    def args(directory: Path, _: Path) -> list[str]:
        days = pd.date_range("2023-01-01", periods=60, freq="7D")
        frame = pd.DataFrame({"customer_id": [f"c{i % 20}" for i in range(60)], "date": days, "amount": 10.0})
        frame.loc[7, "amount"] = -4.5 if refund else 10.0
        path = _csv(directory, frame)
        return ["run", "plugin=retail", "task=customer_behaviour", "debug=smoke", f"data.path={path}", *extra]

    return args


def _example(*extra: str) -> Callable[[Path, Path], list[str]]:
    return lambda directory, _: ["run", "plugin=example", "debug=smoke", *extra]


RUN_OUTPUTS = ("**/bundle/lepton.json", "**/metrics.json", "**/report.html")
PREDICT_OUTPUTS = ("out.csv",)

CASES: list[Case] = [
    # CLI arguments
    Case("unknown plugin", "cli", CONFIG, r"unknown plugin 'nope'", lambda d, b: ["run", "plugin=nope"]),
    Case(
        "misspelt task",
        "cli",
        CONFIG,
        r"did you mean 'classify'",
        lambda d, b: ["run", "plugin=example", "task=clasify"],
    ),
    Case("unknown command", "cli", CONFIG, r"No such command 'trian'", lambda d, b: ["trian"]),
    Case("missing argument", "cli", CONFIG, r"Missing argument", lambda d, b: ["predict"]),
    Case("unknown tasks filter", "cli", CONFIG, r"unknown plugin 'nope'", lambda d, b: ["tasks", "nope"]),
    Case("plugin name without plugin=", "cli", CONFIG, r"did you mean plugin=finance\?", lambda d, b: ["run", "finance"]),
    Case(
        "data export over an existing file",
        "cli",
        CONFIG,
        r"already exists.*--force",
        lambda d, b: ["data", "export", "plugin=example", "-o", str(_csv(d, _credit(), "taken.csv"))],
    ),
    Case("resume without a run", "cli", CONFIG, r"no run of example/classify", _example("resume=true")),
    Case(
        "resume a non-run dir",
        "cli",
        CONFIG,
        r"no checkpoints/ directory",
        lambda d, b: ["run", "plugin=example", f"resume={d}"],
    ),
    # configs
    Case(
        "unknown config key",
        "cli",
        CONFIG,
        r"unknown config key trainer.max_epochz \(did you mean trainer.max_epochs\?\)",
        _example("trainer.max_epochz=3"),
        outputs=RUN_OUTPUTS,
    ),
    Case(
        "unknown config option",
        "cli",
        CONFIG,
        r"Could not find 'trainer/tpu'",
        _example("trainer=tpu"),
        outputs=RUN_OUTPUTS,
    ),
    Case(
        "override syntax", "cli", CONFIG, r"model.hidden", _example("model.hidden=[8,16"), outputs=RUN_OUTPUTS
    ),
    Case(
        "wrong config type",
        "cli",
        CONFIG,
        r"trainer.max_epochs='many' is not a whole number",
        _example("trainer.max_epochs=many"),
        outputs=RUN_OUTPUTS,
    ),
    Case(
        "unknown constructor argument",
        "cli",
        CONFIG,
        r"unexpected keyword argument 'bogus'",
        _example("+model.bogus=1"),
        outputs=RUN_OUTPUTS,
    ),
    Case(
        "fractions leave no training rows",
        "cli",
        CONFIG,
        r"leave no training rows",
        lambda d, b: [*FINANCE, "data.val_fraction=0.6", "data.test_fraction=0.5"],
        outputs=RUN_OUTPUTS,
    ),
    Case(
        "negative batch size",
        "cli",
        CONFIG,
        r"batch_size=-5",
        lambda d, b: [*FINANCE, "data.batch_size=-5"],
        outputs=RUN_OUTPUTS,
    ),
    Case(
        "no target given",
        "cli",
        CONFIG,
        r"no target column given",
        lambda d, b: [*FINANCE, f"data.path={_csv(d, _credit())}"],
        outputs=RUN_OUTPUTS,
    ),
    Case(
        "streaming a CSV",
        "cli",
        CONFIG,
        r"reads Parquet",
        lambda d, b: [
            *FINANCE,
            f"data.path={_csv(d, _credit())}",
            "data.target=default",
            "data.streaming=true",
        ],
        outputs=RUN_OUTPUTS,
    ),
    # data files
    Case(
        "missing data file",
        "cli",
        DATA,
        r"data file not found",
        _finance_file("absent.csv", None),
        outputs=RUN_OUTPUTS,
    ),
    Case(
        "empty data file",
        "cli",
        DATA,
        r"data file is empty",
        _finance_file("empty.csv", b""),
        outputs=RUN_OUTPUTS,
    ),
    Case(
        "header only",
        "cli",
        DATA,
        r"has no rows",
        _finance_file("header.csv", b"age,default\n"),
        outputs=RUN_OUTPUTS,
    ),
    Case(
        "wrong file type",
        "cli",
        DATA,
        r"unsupported file type '.xlsx'",
        _finance_file("table.xlsx", b"PK\x03\x04"),
        outputs=RUN_OUTPUTS,
    ),
    Case(
        "corrupt parquet",
        "cli",
        DATA,
        r"cannot read parquet",
        _finance_file("table.parquet", b"PAR1 garbage"),
        outputs=RUN_OUTPUTS,
    ),
    Case(
        "target column absent",
        "cli",
        DATA,
        r"target column 'defaulted' not found",
        lambda d, b: [*FINANCE, f"data.path={_csv(d, _credit())}", "data.target=defaulted"],
        outputs=RUN_OUTPUTS,
    ),
    Case(
        "unknown feature column",
        "cli",
        DATA,
        r"not in the table: salary",
        lambda d, b: [
            *FINANCE,
            f"data.path={_csv(d, _credit())}",
            "data.target=default",
            "data.features=[age,salary]",
        ],
        outputs=RUN_OUTPUTS,
    ),
    Case("one class", "cli", DATA, r"single class", _credit_with(_set("default", 0)), outputs=RUN_OUTPUTS),
    Case(
        "three classes",
        "cli",
        DATA,
        r"has 3 classes",
        _credit_with(_set("default", lambda f: np.arange(len(f)) % 3)),
        outputs=RUN_OUTPUTS,
    ),
    Case(
        "all-NaN column",
        "cli",
        DATA,
        r"column 'age' has no values",
        _credit_with(_set("age", np.nan)),
        outputs=RUN_OUTPUTS,
    ),
    Case(
        "NaN target everywhere",
        "cli",
        DATA,
        r"only 0 row\(s\) with a target",
        _credit_with(_set("default", np.nan)),
        outputs=RUN_OUTPUTS,
    ),
    Case(
        "text in a numeric column",
        "cli",
        DATA,
        r"column 'age' is numeric but has",
        _credit_with(_set("age", lambda f: ["abc" if i == 7 else str(v) for i, v in enumerate(f["age"])])),
        outputs=RUN_OUTPUTS,
    ),
    Case(
        "infinite values",
        "cli",
        DATA,
        r"infinite values",
        _credit_with(_set("loan_amount", lambda f: f["loan_amount"].where(f.index != 3, np.inf))),
        outputs=RUN_OUTPUTS,
    ),
    Case(
        "extreme values",
        "cli",
        DATA,
        r"too large to compute with",
        _credit_with(_set("loan_amount", lambda f: f["loan_amount"].where(f.index != 3, 1e308))),
        outputs=RUN_OUTPUTS,
    ),
    Case(
        "too few rows",
        "cli",
        DATA,
        r"at least 20 are needed",
        _credit_with(lambda f: f.head(8)),
        outputs=RUN_OUTPUTS,
    ),
    Case("corrupt image", "cli", DATA, r"broken\.png", _image_folder(corrupt=True), outputs=RUN_OUTPUTS),
    Case(
        "one image class",
        "cli",
        DATA,
        r"only one class",
        _image_folder(classes=("only",)),
        outputs=RUN_OUTPUTS,
    ),
    Case("corrupt DICOM", "cli", DATA, r"s3\.dcm", _dicom_folder, outputs=RUN_OUTPUTS),
    Case(
        "forecast table without its columns",
        "cli",
        DATA,
        r"unique_id|ds|\by\b",
        _retail_missing_columns,
        outputs=RUN_OUTPUTS,
    ),
    Case(
        "text target for a regression",
        "cli",
        DATA,
        r"delivery_minutes",
        _eta_text_target,
        outputs=RUN_OUTPUTS,
    ),
    Case(
        "sensor table without unit column",
        "cli",
        DATA,
        r"unit",
        _maintenance_missing_unit,
        outputs=RUN_OUTPUTS,
    ),
    Case(
        "corrupt surface image",
        "cli",
        DATA,
        r"bad\.png",
        _defect_folder_with_a_broken_image,
        outputs=RUN_OUTPUTS,
    ),
    Case(
        "routing problem missing a field",
        "cli",
        DATA,
        r"depot\.lon",
        _routing_problem_without_depot_lon,
        outputs=RUN_OUTPUTS,
    ),
    Case(
        "order line with zero quantity",
        "cli",
        DATA,
        r"column 'qty' has 1 value\(s\) that are not positive whole numbers, e\.g\. '0' for sku a in order o1",
        _order_lines_with([2, 0, 1]),
        outputs=RUN_OUTPUTS,
    ),
    Case(
        "ratings without an item column",
        "cli",
        DATA,
        r"no item column",
        _ratings_without_item_column,
        outputs=RUN_OUTPUTS,
    ),
    Case(
        "part demand below zero",
        "cli",
        DATA,
        r"SKU 'P001' has 1 negative demand",
        _inventory(lambda f: f.assign(demand=f["demand"].where(f.index != 9, -4.0))),
        outputs=RUN_OUTPUTS,
    ),
    Case(
        "parameters for an unknown part",
        "cli",
        DATA,
        r"not in the demand table, e.g. 'P404'",
        _inventory(lambda f: f, pd.DataFrame({"sku": ["P001", "P404"], "lead_time": [3, 5]})),
        outputs=RUN_OUTPUTS,
    ),
    Case(
        "lead time out of range",
        "cli",
        DATA,
        r"lead_time of SKU 'P002' is 40 days, out of range",
        _inventory(lambda f: f, pd.DataFrame({"sku": ["P002"], "lead_time": [40]})),
        outputs=RUN_OUTPUTS,
    ),
    Case(
        "transaction log with a refund",
        "cli",
        DATA,
        r"1 transactions have a negative amount .*data\.negative_amounts=drop",
        _transactions(refund=True),
        outputs=RUN_OUTPUTS,
    ),
    Case(
        "cut-off outside the transaction log",
        "cli",
        DATA,
        r"data\.cutoff=2030-01-01 with a 182-day holdout does not fit",
        _transactions("data.cutoff=2030-01-01"),
        outputs=RUN_OUTPUTS,
    ),
    # predictions and bundles
    Case(
        "predict a missing file",
        "cli",
        DATA,
        r"not found|does not exist",
        _predict(None),
        outputs=PREDICT_OUTPUTS,
    ),
    Case(
        "predict without a column",
        "cli",
        DATA,
        r"x2",
        _predict(pd.DataFrame({"x1": [0.1, 0.2]})),
        outputs=PREDICT_OUTPUTS,
    ),
    Case(
        "predict text for numbers",
        "cli",
        DATA,
        r"x1",
        _predict(pd.DataFrame({"x1": ["abc", "0.1"], "x2": [0.1, 0.2]})),
        outputs=PREDICT_OUTPUTS,
    ),
    Case("predict an empty file", "cli", DATA, r"cannot read in.csv", _predict(b""), outputs=PREDICT_OUTPUTS),
    Case(
        "bundle that does not exist",
        "cli",
        BUNDLE,
        r"bundle|lepton.json",
        lambda d, b: ["predict", str(d / "nope"), "x.csv", "-o", str(d / "out.csv")],
        outputs=PREDICT_OUTPUTS,
    ),
    Case(
        "tampered bundle",
        "cli",
        BUNDLE,
        r"weights.safetensors",
        _broken_bundle(_flip_a_byte),
        outputs=PREDICT_OUTPUTS,
    ),
    Case(
        "bundle without manifest",
        "cli",
        BUNDLE,
        r"lepton.json",
        _broken_bundle(lambda b: (b / "lepton.json").unlink()),
        outputs=PREDICT_OUTPUTS,
    ),
    # HTTP requests to `lepton serve`
    Case("HTTP invalid JSON", "http", 422, r"invalid JSON", http=("POST", "/predict", b"{x1: 1")),
    Case("HTTP wrong type", "http", 422, r"x1", http=("POST", "/predict", _point(x1="abc", x2=0.1))),
    Case("HTTP missing field", "http", 422, r"x2", http=("POST", "/predict", _point(x1=0.1))),
    Case(
        "HTTP unknown field",
        "http",
        422,
        r"colour",
        http=("POST", "/predict", _point(x1=0.1, x2=0.2, colour="red")),
    ),
    Case("HTTP NaN", "http", 422, r"NaN", http=("POST", "/predict", b'{"x1": NaN, "x2": 0.1}')),
    Case(
        "HTTP beyond float32",
        "http",
        422,
        r"not a finite number",
        http=("POST", "/predict", _point(x1=0.0, x2=1e39)),
    ),
    Case("HTTP empty body", "http", 422, r"invalid JSON", http=("POST", "/predict", b"")),
    Case("HTTP not an object", "http", 422, r"one item", http=("POST", "/predict", b'"x1"')),
    Case(
        "HTTP body too large",
        "http",
        413,
        r"larger than",
        http=("POST", "/predict", b"[" + b'{"x1":0,"x2":0},' * 80_000 + b"{}]"),
    ),
    Case("HTTP wrong method", "http", 405, r"Method Not Allowed", http=("GET", "/predict", b"")),
    Case(
        "HTTP unknown path", "http", 404, r"Not Found", http=("POST", "/predictions", _point(x1=0.1, x2=0.2))
    ),
]


# ---------------------------------------------------------------------------- bundle trust (hostile bundles)
# An attacker edits a bundle and re-hashes its manifest; more in tests/test_bundle_trust.py.


def _rehashed(breaks: Callable[[Path], None]) -> Callable[[Path], None]:
    def apply(bundle: Path) -> None:
        from lepton_core.bundle.manifest import file_sha256

        breaks(bundle)
        manifest = json.loads((bundle / "lepton.json").read_text())
        if isinstance(manifest.get("files"), dict):
            manifest["files"] = {n: file_sha256(bundle / n) if (bundle / n).is_file() else h for n, h in manifest["files"].items()}
        (bundle / "lepton.json").write_text(json.dumps(manifest))

    return apply


def _manifest_edit(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def apply(bundle: Path) -> None:
        manifest = json.loads((bundle / "lepton.json").read_text())
        change(manifest)
        (bundle / "lepton.json").write_text(json.dumps(manifest))

    return apply


def _truncate_weights(bundle: Path) -> None:
    weights = bundle / "weights.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])


def _drop_weights(bundle: Path) -> None:
    (bundle / "weights.safetensors").unlink()
    _manifest_edit(lambda m: m["files"].pop("weights.safetensors"))(bundle)


def _config_append(text: str) -> Callable[[Path], None]:
    def apply(bundle: Path) -> None:
        with (bundle / "config.yaml").open("a") as handle:
            handle.write(text)

    return apply


def _unsigned_with_trusted_key(directory: Path, bundle: Path) -> list[str]:
    from lepton_core.bundle.signing import generate_keypair

    _, public = generate_keypair(directory / "keys")
    return [*_broken_bundle(lambda b: None)(directory, bundle), "--trusted-key", str(public)]


TRUST_CASES: list[Case] = [
    Case("truncated weights", "cli", BUNDLE, r"not a valid safetensors", _broken_bundle(_rehashed(_truncate_weights)),
         outputs=PREDICT_OUTPUTS),
    Case("weights deleted with their manifest line", "cli", BUNDLE, r"no weights.safetensors", _broken_bundle(_drop_weights),
         outputs=PREDICT_OUTPUTS),
    Case("manifest files not a mapping", "cli", BUNDLE, r"'files' is not a mapping",
         _broken_bundle(_manifest_edit(lambda m: m.update(files=list(m["files"])))), outputs=PREDICT_OUTPUTS),
    Case("manifest hash not a string", "cli", BUNDLE, r"not a sha256",
         _broken_bundle(_manifest_edit(lambda m: m["files"].update({"config.yaml": 1}))), outputs=PREDICT_OUTPUTS),
    Case("invalid YAML in the bundle config", "cli", BUNDLE, r"not valid bundle YAML",
         _broken_bundle(_rehashed(_config_append("broken: [unclosed\n"))), outputs=PREDICT_OUTPUTS),
    Case("bundle config naming code", "cli", BUNDLE, r"names code",
         _broken_bundle(_rehashed(_config_append("predictor:\n  _target_: pathlib.Path.write_text\n"))),
         outputs=PREDICT_OUTPUTS),
    Case("bundle config with an interpolation", "cli", BUNDLE, r"interpolation",
         _broken_bundle(_rehashed(_config_append("home: ${oc.env:HOME}\n"))), outputs=PREDICT_OUTPUTS),
    Case("unsigned bundle with a trusted key", "cli", BUNDLE, r"not signed", _unsigned_with_trusted_key,
         outputs=PREDICT_OUTPUTS),
]
CASES += TRUST_CASES

# ---------------------------------------------------------------------------- runs: resume, outputs, duplicates


def _run_dir(directory: Path, name: str, checkpoint: bytes | None, ran: str | None = None) -> Path:
    """A fake run directory under the case's outputs (a checkpoint file with these bytes, a saved config)."""
    run = directory / "outputs" / "example" / "classify" / name
    run.mkdir(parents=True)
    if checkpoint is not None:
        (run / "checkpoints").mkdir()
        (run / "checkpoints" / "last.ckpt").write_bytes(checkpoint)
    if ran is not None:
        plugin, task = ran.split("/")
        (run / ".hydra").mkdir()
        (run / ".hydra" / "config.yaml").write_text(f"plugin:\n  name: {plugin}\ntask:\n  name: {task}\n")
    return run


def _resume_past_a_run_without_checkpoint(directory: Path, _: Path) -> list[str]:
    _run_dir(directory, "2026-01-01_00-00-00-000000", b"checkpoint")
    _run_dir(directory, "2026-01-02_00-00-00-000000", None)  # died before its first checkpoint
    return ["run", "plugin=example", "debug=smoke", "resume=true"]


def _resume_another_task(directory: Path, _: Path) -> list[str]:
    run = _run_dir(directory, "2026-01-01_00-00-00-000000", b"checkpoint", "finance/credit_scoring")
    return ["run", "plugin=example", "debug=smoke", f"resume={run}"]


def _resume_a_damaged_checkpoint(directory: Path, _: Path) -> list[str]:
    run = _run_dir(directory, "2026-01-01_00-00-00-000000", b"PK\x03\x04 truncated", "example/classify")
    return ["run", "plugin=example", "debug=smoke", f"resume={run}"]


def _resume_with_another_model(directory: Path, bundle: Path) -> list[str]:
    run = directory / "run"
    shutil.copytree(bundle.parent, run, ignore=shutil.ignore_patterns("bundle"))
    return ["run", "plugin=example", "debug=smoke", f"resume={run}", "model.hidden=7"]


def _repeated_target(directory: Path, _: Path) -> list[str]:
    frame = _credit()
    path = directory / "table.csv"
    pd.concat([frame, frame[["default"]]], axis=1).to_csv(path, index=False)  # header: ...,default,...,default
    return [*FINANCE, f"data.path={path}", "data.target=default"]


def _repeated_parquet_column(directory: Path, _: Path) -> list[str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = _credit()
    columns = [pa.array(frame[c]) for c in frame.columns] + [pa.array(frame["age"])]
    path = directory / "table.parquet"
    pq.write_table(pa.table(columns, names=[*frame.columns, "age"]), path)
    return [*FINANCE, f"data.path={path}", "data.target=default"]


def _predict_to(output: str, rows: pd.DataFrame | None = None) -> Callable[[Path, Path], list[str]]:
    def args(directory: Path, bundle: Path) -> list[str]:
        (rows if rows is not None else pd.DataFrame({"x1": [0.1], "x2": [0.2]})).to_csv(directory / "in.csv", index=False)
        target = output.replace("{dir}", str(directory))
        return ["predict", str(bundle), str(directory / "in.csv"), "-o", target, "--no-progress"]

    return args


# ---------------------------------------------------------------------------- `lepton predict --engine spark`
# Both fail before a JVM starts (no Java needed); the no-Java case is in tests/test_scale_spark.py.


def _spark_predict(master: str, with_input: bool) -> Callable[[Path, Path], list[str]]:
    def args(directory: Path, bundle: Path) -> list[str]:
        if with_input:
            pd.DataFrame({"x1": [0.1], "x2": [0.2]}).to_parquet(directory / "in.parquet")
        out = str(directory / "scores")
        return ["predict", str(bundle), str(directory / "in.parquet"), "-o", out, "--engine", "spark", "--master", master]

    return args


# ---------------------------------------------------------------------------- `lepton serve` limits and hostile input

SERVE_ERROR = EXIT_CODES["serve or export error"]
_HELD_SOCKETS: list[object] = []  # listening sockets that keep a port in use while a case runs


def _serve(*options: str) -> Callable[[Path, Path], list[str]]:
    return lambda directory, bundle: ["serve", str(bundle), "--port", "0", *options]


def _serve_on_a_port_in_use(directory: Path, bundle: Path) -> list[str]:
    import socket

    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    _HELD_SOCKETS.append(holder)
    return ["serve", str(bundle), "--port", str(holder.getsockname()[1])]


def _serve_with_key(key: str) -> Callable[[Path, Path], list[str]]:
    def args(directory: Path, bundle: Path) -> list[str]:
        (directory / "key.txt").write_text(key)
        return ["serve", str(bundle), "--port", "0", "--api-key-file", str(directory / "key.txt")]

    return args


READ_ONLY = "/sys/lepton-read-only"  # sysfs: not even root may create files there

RUNS_CASES: list[Case] = [
    Case(
        "resume past a run without checkpoint",
        "cli",
        CONFIG,
        r"latest run of example/classify, .*2026-01-02.* has no checkpoint.*resume=.*2026-01-01",
        _resume_past_a_run_without_checkpoint,
        outputs=RUN_OUTPUTS,
    ),
    Case("resume a run of another task", "cli", CONFIG, r"is a run of finance/credit_scoring", _resume_another_task),
    Case(
        "resume with a sweep", "cli", CONFIG, r"resume cannot be combined with -m", _example("-m", "resume=true")
    ),
    Case(
        "resume a damaged checkpoint",
        "cli",
        DATA,
        r"cannot read the checkpoint .*last\.ckpt",
        _resume_a_damaged_checkpoint,
        outputs=RUN_OUTPUTS,
    ),
    Case("resume with another model", "cli", CONFIG, r"does not fit the model", _resume_with_another_model),
    Case("seed not a number", "cli", CONFIG, r"seed='abc' is not a whole number", _example("seed=abc"), outputs=RUN_OUTPUTS),
    Case("seed out of range", "cli", CONFIG, r"seed=-3 is not a whole number", _example("seed=-3"), outputs=RUN_OUTPUTS),
    Case("threads not a number", "cli", CONFIG, r"cpu_threads='two'", _example("cpu_threads=two"), outputs=RUN_OUTPUTS),
    Case(
        "run outputs in a read-only place",
        "cli",
        CONFIG,
        r"cannot write /sys/lepton-read-only",
        _example(f"paths.output_dir={READ_ONLY}"),
    ),
    Case("repeated column names", "cli", DATA, r"repeated column names: default", _repeated_target, outputs=RUN_OUTPUTS),
    Case(
        "repeated parquet columns",
        "cli",
        DATA,
        r"repeated column names: age",
        _repeated_parquet_column,
        outputs=RUN_OUTPUTS,
    ),
    Case("predict onto its input", "cli", CONFIG, r"is the input file", _predict_to("{dir}/in.csv")),
    Case("predict to a device", "cli", CONFIG, r"/dev/null exists and is not a regular file", _predict_to("/dev/null")),
    Case("predict to an unknown type", "cli", CONFIG, r"unknown output type '\.xlsx'", _predict_to("{dir}/out.xlsx")),
    Case(
        "predict to a read-only place",
        "cli",
        CONFIG,
        r"cannot write the predictions to /sys/lepton-read-only/out\.csv",
        _predict_to(f"{READ_ONLY}/out.csv"),
    ),
    Case(
        "predict with a chunk size of 0",
        "cli",
        CONFIG,
        r"chunk size 0 is not positive",
        lambda d, b: [*_predict_to("{dir}/out.csv")(d, b), "--chunk-size", "0"],
        outputs=PREDICT_OUTPUTS,
    ),
    Case(
        "predict repeated columns",
        "cli",
        DATA,
        r"repeated column names: x1",
        _predict(b"x1,x2,x1\n0.1,0.2,5\n"),
        outputs=PREDICT_OUTPUTS,
    ),
    Case(
        "predict a corrupt parquet",
        "cli",
        DATA,
        r"cannot read in\.parquet",
        _predict(b"PAR1 garbage", name="in.parquet"),
        outputs=PREDICT_OUTPUTS,
    ),
    Case(
        "export with a negative tolerance",
        "cli",
        CONFIG,
        r"--tolerance -1\.0 is not a difference",
        lambda d, b: ["export", str(b), "--tolerance", "-1"],
    ),
    Case(
        "monitor never logged",
        "cli",
        CONFIG,
        r"could not find the monitored key",
        _example("callbacks.model_checkpoint.monitor=nope"),
        outputs=RUN_OUTPUTS,
    ),
    Case("model option not a number", "cli", CONFIG, r"model.lr='abc' is not a number", _example("model.lr=abc"), outputs=RUN_OUTPUTS),
    Case("batch size of 0", "cli", CONFIG, r"batch size 0 is not a positive integer", _example("data.batch_size=0"), outputs=RUN_OUTPUTS),
    Case(
        "new plugin in a read-only place",
        "cli",
        CONFIG,
        r"cannot write /sys/lepton-read-only",
        lambda d, b: ["new", "plugin", "churn_model", "--dir", READ_ONLY],
    ),
]
CASES += RUNS_CASES


def _huge_png_header(width: int, height: int) -> bytes:
    """A PNG that announces ``width x height`` pixels and holds one row of them."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    head = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + head + chunk(b"IDAT", zlib.compress(bytes(width + 1))) + chunk(b"IEND", b"")


def _image_folder_with_a_huge_png(directory: Path, bundle: Path) -> list[str]:
    args = _image_folder()(directory, bundle)
    (directory / "images" / "a" / "huge.png").write_bytes(_huge_png_header(20_000, 20_000))
    return args


def _dicom_folder_with_a_deflated_bomb(directory: Path, bundle: Path) -> list[str]:
    """The DICOM folder, its broken file replaced by a deflated one announcing 16384 x 16384 pixels."""
    import pydicom
    from pydicom.uid import DeflatedExplicitVRLittleEndian

    args = _dicom_folder(directory, bundle)
    dataset = pydicom.dcmread(directory / "dicom" / "s2.dcm")
    dataset.Rows = dataset.Columns = 16384
    dataset.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    dataset.save_as(directory / "dicom" / "s3.dcm", enforce_file_format=True)
    return args


SERVER_CASES: list[Case] = [
    Case("serve negative body limit", "cli", CONFIG, r"--max-body-bytes -5", _serve("--max-body-bytes", "-5")),
    Case("serve negative queue", "cli", CONFIG, r"--max-queue -1", _serve("--max-queue", "-1")),
    Case("serve zero batch size", "cli", CONFIG, r"--max-batch-size 0", _serve("--max-batch-size", "0")),
    Case("serve zero header timeout", "cli", CONFIG, r"--header-timeout 0", _serve("--header-timeout", "0")),
    Case("serve zero connections", "cli", CONFIG, r"--max-connections 0", _serve("--max-connections", "0")),
    Case("serve port out of range", "cli", CONFIG, r"--port 70000", _serve("--port", "70000")),
    Case("serve port in use", "cli", SERVE_ERROR, r"already in use", _serve_on_a_port_in_use),
    Case("serve unknown log level", "cli", CONFIG, r"--log-level 'loud'", _serve("--log-level", "loud")),
    Case("serve short API key", "cli", CONFIG, r"API key", _serve_with_key("short")),
    Case("serve missing API key file", "cli", CONFIG, r"--api-key-file", _serve("--api-key-file", "absent.txt")),
    Case("image over the pixel limit", "cli", DATA, r"huge\.png has more than", _image_folder_with_a_huge_png, outputs=RUN_OUTPUTS),
    Case("DICOM over the pixel limit", "cli", DATA, r"s3\.dcm has 268435456 pixels", _dicom_folder_with_a_deflated_bomb, outputs=RUN_OUTPUTS),
    Case(
        "HTTP thousands of invalid items",
        "http",
        422,
        r"Field required",
        http=("POST", "/predict", b"[" + b"{}," * 80_000 + b"{}]"),
    ),
    Case("HTTP JSON nested too deep", "http", 422, r"nested deeper", http=("POST", "/predict", b"[" * 5000 + b"]" * 5000)),
    Case("HTTP lone surrogate", "http", 422, r"not valid Unicode", http=("POST", "/predict", rb'{"x1": "\ud800", "x2": 1}')),
]
CASES += SERVER_CASES

# ---------------------------------------------------------------------------- tabular: finance champion options

TABULAR_CASES = [
    Case(
        "unknown champion",
        "cli",
        CONFIG,
        r"task.champion=forest is not a contender of this run",
        lambda d, b: [*FINANCE, "task.champion=forest"],
        outputs=RUN_OUTPUTS,
    ),
    Case(
        "unknown primary metric",
        "cli",
        CONFIG,
        r"unknown task.primary_metric 'accuracy'",
        lambda d, b: [*FINANCE, "task.primary_metric=accuracy"],
        outputs=RUN_OUTPUTS,
    ),
]
CASES += TABULAR_CASES

SPARK_CASES: list[Case] = [
    Case(
        "spark predict a missing input",
        "cli",
        DATA,
        r"input not found: .*in\.parquet",
        _spark_predict("local[2]", with_input=False),
        outputs=("scores",),
    ),
    Case(
        "spark predict with a bad master URL",
        "cli",
        CONFIG,
        r"'localhost:7077' is not a Spark master URL",
        _spark_predict("localhost:7077", with_input=True),
        outputs=("scores",),
    ),
]
CASES += SPARK_CASES

# ---------------------------------------------------------------------------- medical: patient_risk tables

PATIENT_RISK = ["run", "plugin=medical_imaging", "task=patient_risk", "debug=smoke"]


def _admissions(
    change: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    change_patients: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    *extra: str,
) -> Callable[[Path, Path], list[str]]:
    def args(directory: Path, _: Path) -> list[str]:
        from lepton_medical_imaging.patient_risk.demo import make_demo_tables

        admissions, patients = make_demo_tables(60, seed=0)
        admissions = change(admissions) if change else admissions
        patients = change_patients(patients) if change_patients else patients
        return [
            *PATIENT_RISK,
            f"data.path={_csv(directory, admissions, 'admissions.csv')}",
            f"data.patients_path={_csv(directory, patients, 'patients.csv')}",
            *extra,
        ]

    return args


PATIENT_RISK_CASES = [
    Case(
        "admissions without a patient id",
        "cli",
        DATA,
        r"patient id column 'patient_id' not found",
        _admissions(lambda a: a.drop(columns="patient_id")),
        outputs=RUN_OUTPUTS,
    ),
    Case(
        "admission of an unknown patient",
        "cli",
        DATA,
        r"have a patient id not in the patients table",
        _admissions(None, lambda p: p.iloc[3:]),
        outputs=RUN_OUTPUTS,
    ),
    Case(
        "readmission label not 0/1",
        "cli",
        DATA,
        r"label column 'readmitted_30d' must hold 0 or 1",
        _admissions(_set("readmitted_30d", lambda f: np.where(f.index % 2, "yes", "no"))),
        outputs=RUN_OUTPUTS,
    ),
    Case(
        "patient in two splits",
        "cli",
        DATA,
        r"patient 'P000000' has admissions in both test and train",
        _admissions(_set("split", lambda f: np.where(f.index == 0, "test", "train")), None, "data.split_column=split"),
        outputs=RUN_OUTPUTS,
    ),
]
CASES += PATIENT_RISK_CASES


# ---------------------------------------------------------------------------- checks


WARM_IMPORTS = (
    "torch",
    "lightning",
    "pandas",
    "sklearn.linear_model",
    "hydra",
    "lepton_core.cli",
    "lepton_core.pipeline.run",
    "lepton_core.tabular.datamodule",
    "lepton_core.bundle",
)


def _fork_lepton(args: list[str], directory: Path) -> int:
    """Start `lepton ARGS` in a forked child (cwd ``directory``, outputs under it); its pid."""
    env = {**os.environ, "LEPTON_OUTPUT_DIR": str(directory / "outputs"), "COLUMNS": "160"}
    env.pop("PYTEST_CURRENT_TEST", None)
    return fork_lepton(args, env, directory, directory / "stdout.txt", directory / "stderr.txt")


def _run_cli_cases(
    cases: list[Case], root: Path, bundle: Path, parallel: int = 2, timeout: float = 300
) -> dict:
    """Run every CLI case in a forked child, ``parallel`` at a time; {case name: (exit code, stdout, stderr)}."""
    import importlib

    for module in WARM_IMPORTS:
        importlib.import_module(module)
    from lepton_core.hooks.manager import get_plugin_manager

    get_plugin_manager()
    waiting, running, done = list(cases), {}, {}
    while waiting or running:
        while waiting and len(running) < parallel:
            case = waiting.pop(0)
            directory = root / re.sub(r"\W+", "_", case.name)
            directory.mkdir()
            args = case.args(directory, bundle)
            running[_fork_lepton(args, directory)] = (case, directory, time.monotonic())
        for pid, (case, directory, started) in list(running.items()):
            finished, status = os.waitpid(pid, os.WNOHANG)
            if not finished and time.monotonic() - started > timeout:
                os.kill(pid, signal.SIGKILL)
                finished, status = os.waitpid(pid, 0)
            if finished:
                del running[pid]
                out, err = (
                    (directory / name).read_text(errors="replace") for name in ("stdout.txt", "stderr.txt")
                )
                done[case.name] = (os.waitstatus_to_exitcode(status), out, err)
        time.sleep(0.02)
    return done


def _check_cli(case: Case, directory: Path, code: int, stdout: str, stderr: str) -> list[str]:
    problems = []
    errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
    if code != case.expect:
        problems.append(f"exit code {code}, expected {case.expect}")
    if len(errors) != 1:
        problems.append(f"{len(errors)} 'error:' lines")
    elif not re.search(case.message, errors[0]):
        problems.append(f"error line does not match /{case.message}/")
    if "Traceback" in stdout + stderr:
        problems.append("a traceback was printed")
    for pattern in case.outputs:
        left = [str(p.relative_to(directory)) for p in directory.glob(pattern)]
        if left:
            problems.append(f"left behind: {left}")
    if problems:
        problems.append(f"stderr: {stderr.strip()[-600:]!r}")
    return problems


def _check_http(case: Case, client: httpx.Client) -> list[str]:
    method, path, body = case.http
    response = client.request(method, path, content=body, headers={"content-type": "application/json"})
    problems = []
    if response.status_code != case.expect:
        problems.append(f"status {response.status_code}, expected {case.expect}")
    try:
        detail = json.dumps(response.json()["detail"])
    except (ValueError, KeyError, TypeError):
        detail = ""
        problems.append("no JSON 'detail' in the answer")
    if detail and not re.search(case.message, detail):
        problems.append(f"detail does not match /{case.message}/")
    if "Traceback" in response.text:
        problems.append("a traceback in the answer")
    if problems:
        problems.append(f"answer: {response.text[:400]!r}")
    return problems


@pytest.mark.slow
def test_every_bad_input_fails_cleanly_with_its_documented_code(tmp_path: Path, example_run: Path) -> None:
    from lepton_core.serve import ServerThread, build_app

    bundle = example_run / "bundle"
    failures: dict[str, list[str]] = {}
    cli_cases = [c for c in CASES if c.kind == "cli"]
    for name, (code, stdout, stderr) in _run_cli_cases(cli_cases, tmp_path, bundle).items():
        case = next(c for c in cli_cases if c.name == name)
        problems = _check_cli(case, tmp_path / re.sub(r"\W+", "_", name), code, stdout, stderr)
        if problems:
            failures[name] = problems
    app, _ = build_app(bundle)
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        for _ in range(300):
            if client.get("/readyz").status_code == 200:
                break
            __import__("time").sleep(0.1)
        for case in (c for c in CASES if c.kind == "http"):
            problems = _check_http(case, client)
            if problems:
                failures[case.name] = problems
    report = "\n".join(f"- {name}: " + "; ".join(problems) for name, problems in failures.items())
    assert not failures, f"{len(failures)} of {len(CASES)} bad inputs did not fail cleanly:\n{report}"


def test_the_suite_is_large_and_documented() -> None:
    assert len(CASES) >= 30 and len({c.name for c in CASES}) == len(CASES)
    page = (ROOT / "docs" / "exit-codes.md").read_text()
    undocumented = [c.name for c in CASES if f"| {c.name} |" not in page]
    assert not undocumented, f"add to docs/exit-codes.md: {undocumented}"
    for code in {c.expect for c in CASES}:
        assert f"| {code} |" in page

# ---------------------------------------------------------------------------- finance portfolio: price tables

PORTFOLIO = ["run", "plugin=finance", "task=portfolio", "debug=smoke"]


def _prices_with(change: Callable[[pd.DataFrame], pd.DataFrame], n_days: int = 400) -> Callable[[Path, Path], list[str]]:
    def args(directory: Path, _: Path) -> list[str]:
        from lepton_finance.portfolio.demo import price_table

        return [*PORTFOLIO, f"data.path={_csv(directory, change(price_table(6, n_days, seed=0)), 'prices.csv')}"]

    return args


PORTFOLIO_CASES = [
    Case("price table without a date column", "cli", DATA, r"no date column 'date'",
         _prices_with(lambda f: f.rename(columns={"date": "when"})), outputs=RUN_OUTPUTS),
    Case("non-positive price", "cli", DATA, r"asset 'tech_1' has a non-positive price",
         _prices_with(_set("tech_1", lambda f: f["tech_1"].where(f.index != 9, 0.0))), outputs=RUN_OUTPUTS),
    Case("duplicate price dates", "cli", DATA, r"duplicate dates", _prices_with(lambda f: pd.concat([f, f.tail(2)])),
         outputs=RUN_OUTPUTS),
    Case("non-numeric prices", "cli", DATA, r"asset 'energy_1' has non-numeric prices",
         _prices_with(_set("energy_1", lambda f: f["energy_1"].astype(object).where(f.index != 4, "n/a*"))),
         outputs=RUN_OUTPUTS),
    Case("too few price dates", "cli", DATA, r"the price table has 120 dates", _prices_with(lambda f: f, n_days=120),
         outputs=RUN_OUTPUTS),
    Case("unknown risk profile", "cli", CONFIG, r"task.risk_profile=reckless is not a defined profile",
         lambda d, b: [*PORTFOLIO, "task.risk_profile=reckless"], outputs=RUN_OUTPUTS),
]
CASES += PORTFOLIO_CASES

# ---------------------------------------------------------------------------- medical: pathology slide folders

PATHOLOGY = ["run", "plugin=medical_imaging", "task=pathology", "debug=smoke"]


def _slides_with(change: Callable[[Path], None]) -> Callable[[Path, Path], list[str]]:
    def args(directory: Path, _: Path) -> list[str]:
        from lepton_medical_imaging.pathology.demo import make_demo_slides

        folder = make_demo_slides(directory / "slides", n_slides=12, size=128, seed=0)
        change(folder)
        return [*PATHOLOGY, f"data.path={folder}"]

    return args



def _label_a_ghost_slide(folder: Path) -> None:
    labels = pd.read_csv(folder / "labels.csv")
    pd.concat([labels, pd.DataFrame({"slide": ["ghost.tif"], "label": [1]})]).to_csv(folder / "labels.csv", index=False)


PATHOLOGY_CASES = [
    Case("labels naming an unknown slide", "cli", DATA, r"labels\.csv names 1 slide\(s\) not in .*'ghost\.tif'",
         _slides_with(_label_a_ghost_slide), outputs=RUN_OUTPUTS),
    Case("slide that is not a TIFF", "cli", DATA, r"slide_004\.tif is not a TIFF file",
         _slides_with(lambda f: (f / "slide_004.tif").write_bytes(b"GIF89a" + bytes(40))), outputs=RUN_OUTPUTS),
]
CASES += PATHOLOGY_CASES

# ---------------------------------------------------------------------------- logistics order_tracking: events tables

def _order_events_with(change: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[Path, Path], list[str]]:
    def args(directory: Path, _: Path) -> list[str]:
        from lepton_logistics.tracking.demo import generate_order_events

        path = _csv(directory, change(generate_order_events(60, seed=0, n_days=10)), "events.csv")
        return ["run", "plugin=logistics", "task=order_tracking", "debug=smoke", f"data.path={path}"]

    return args


ORDER_TRACKING_CASES = [
    Case("order event with an unknown status", "cli", DATA, r"unknown status \('lost'.*allowed: created, picked",
         _order_events_with(_set("status", lambda f: f["status"].where(f.index != 7, "lost"))), outputs=RUN_OUTPUTS),
    Case("order events out of order", "cli", DATA, r"impossible event sequences, e\.g\. order .*data\.invalid_orders=drop",
         _order_events_with(_set("timestamp", lambda f: f["timestamp"].where(f["status"] != "picked", "2020-01-01"))),
         outputs=RUN_OUTPUTS),
]
CASES += ORDER_TRACKING_CASES
