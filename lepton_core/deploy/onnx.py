"""ONNX: export a bundle's module with a dynamic batch dimension behind a parity gate, and run it with ONNX Runtime.

The export goes through the predictor's own ``preprocess`` (so the ONNX graph sees exactly the tensors the
torch module sees), then compares torch and ONNX Runtime outputs on held-out examples; a difference above
the tolerance refuses the export and leaves the bundle untouched.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lepton_core.errors import ServeError

__all__ = [
    "ONNX_NAME",
    "PARITY_TOLERANCE",
    "OnnxExport",
    "OnnxRunner",
    "attach_runtime",
    "check_self_contained",
    "export_onnx",
    "resolve_device",
]

ONNX_NAME = "model.onnx"
PARITY_TOLERANCE = 1e-4
RUNTIMES = ("auto", "torch", "onnx")


@dataclass(frozen=True)
class OnnxExport:
    """What ``export_onnx`` added to the bundle."""

    path: Path
    exporter: str
    n_examples: int
    max_abs_diff: float
    tolerance: float


class OnnxRunner:
    """Runs an ONNX model on the predictor's input tensors and returns torch tensors (the ``Predictor.runner``)."""

    def __init__(self, path: Path) -> None:
        import torch

        from lepton_core.extras import require

        ort = require("onnxruntime", "onnx", "the ONNX runtime")

        available = ort.get_available_providers()
        providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        self.session = ort.InferenceSession(str(path), options, providers=providers)
        self.input_names = [i.name for i in self.session.get_inputs()]

    def __call__(self, inputs: tuple[Any, ...]) -> Any:
        import torch

        feeds = {name: t.detach().cpu().numpy() for name, t in zip(self.input_names, inputs, strict=True)}
        outputs = [torch.from_numpy(o) for o in self.session.run(None, feeds)]
        return outputs[0] if len(outputs) == 1 else tuple(outputs)


def resolve_device(device: str = "auto") -> str:
    """The torch device to load a bundle on: ``auto`` is CUDA when available, else CPU."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def attach_runtime(bundle_dir: Path, manifest: Mapping[str, Any], predictor: Any, runtime: str = "auto") -> str:
    """Make ``predictor`` run on ``runtime`` (auto: ONNX when the bundle carries a parity-checked model); return it."""
    if runtime not in RUNTIMES:
        raise ServeError(f"unknown runtime '{runtime}'", f"choose one of {', '.join(RUNTIMES)}")
    onnx = manifest.get("onnx") or {}
    checked = bool(onnx.get("parity_checked")) and onnx.get("file") in manifest.get("files", {})
    if runtime == "auto":
        from lepton_core.extras import available

        runtime = "onnx" if checked and available("onnxruntime") else "torch"
    if runtime == "onnx":
        if not checked:
            raise ServeError(
                "bundle carries no parity-checked ONNX model",
                "run `lepton export BUNDLE --format onnx` first, or use --runtime torch",
            )
        from lepton_core.bundle.manifest import safe_member

        path = safe_member(bundle_dir, str(onnx["file"]))
        check_self_contained(path)
        predictor.runner = OnnxRunner(path)
    return runtime


def _graph_tensors(graph: Any) -> Iterator[Any]:
    """Every tensor of an ONNX graph: initializers, sparse initializers and node attributes, subgraphs included."""
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    yield from _node_tensors(graph.node)


def _node_tensors(nodes: Any) -> Iterator[Any]:
    for node in nodes:
        for attribute in node.attribute:
            if attribute.HasField("t"):
                yield attribute.t
            yield from attribute.tensors
            if attribute.HasField("g"):
                yield from _graph_tensors(attribute.g)
            for subgraph in attribute.graphs:
                yield from _graph_tensors(subgraph)


def check_self_contained(path: Path) -> None:
    """Refuse an ONNX model that reads external data (a file named by the model could lie anywhere on the host)."""
    from lepton_core.errors import BundleError
    from lepton_core.extras import require

    onnx = require("onnx", "onnx", "reading an ONNX model")

    fix = "export it again with `lepton export BUNDLE --format onnx`"
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # noqa: BLE001 - protobuf and onnx raise several types for a bad file
        raise BundleError(f"bundle file {path.name} is not a valid ONNX model ({type(exc).__name__})", fix) from None
    functions = (tensor for function in model.functions for tensor in _node_tensors(function.node))
    for tensor in (*_graph_tensors(model.graph), *functions):
        if tensor.data_location == onnx.TensorProto.EXTERNAL or len(tensor.external_data):
            raise BundleError(
                f"bundle file {path.name} reads tensor '{tensor.name}' from an external file (not allowed in a bundle)", fix
            )


def _as_list(outputs: Any) -> list[Any]:
    return list(outputs) if isinstance(outputs, tuple | list) else [outputs]


def _torch_export(module: Any, inputs: tuple[Any, ...], path: Path, n_outputs: int) -> str:
    import torch

    input_names = [f"input_{i}" for i in range(len(inputs))]
    output_names = [f"output_{i}" for i in range(n_outputs)]
    quiet = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
        warnings.simplefilter("ignore")
        try:
            batch = torch.export.Dim("batch")
            torch.onnx.export(
                module,
                inputs,
                str(path),
                dynamo=True,
                external_data=False,
                input_names=input_names,
                output_names=output_names,
                dynamic_shapes=tuple({0: batch} for _ in inputs),
            )
            return "torch.export (dynamo)"
        except Exception:  # noqa: BLE001 - fall back to the TorchScript exporter, which takes more modules
            path.unlink(missing_ok=True)
        try:
            axes = {name: {0: "batch"} for name in (*input_names, *output_names)}
            torch.onnx.export(
                module, inputs, str(path), dynamo=False, input_names=input_names,
                output_names=output_names, dynamic_axes=axes,
            )
        except Exception as exc:  # noqa: BLE001 - any exporter failure is a refused export
            raise ServeError(
                f"the model cannot be exported to ONNX ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})",
                "keep serving it with the torch runtime, or make its forward pure tensor ops",
            ) from None
        return "torchscript"


def _max_abs_diff(expected: list[Any], actual: list[Any]) -> float:
    import torch

    if len(expected) != len(actual):
        return float("inf")
    worst = 0.0
    for want, got in zip(expected, actual, strict=True):
        want, got = torch.as_tensor(want).float(), torch.as_tensor(got).float()
        if want.shape != got.shape:
            return float("inf")
        if want.numel():
            worst = max(worst, float((want - got).abs().max()))
    return worst


def _parity_batches(predictor: Any, items: list[Any]) -> list[tuple[Any, ...]]:
    """Held-out batches: all examples at once, one alone, and all repeated (other batch sizes than the export's)."""
    batches = [items, items[:1], items * 3]
    return [predictor.preprocess(batch) for batch in batches]


def export_onnx(
    bundle_dir: str | Path,
    examples: Sequence[Mapping[str, Any]] = (),
    tolerance: float = PARITY_TOLERANCE,
    trusted_keys: Sequence[Any] | None = None,
) -> OnnxExport:
    """Export the bundle's module to ``model.onnx``, check parity on held-out examples, add it to the bundle.

    The bundle's manifest changes, so a signature it had no longer holds and is removed: sign it again.
    """
    import torch

    from lepton_core.extras import require

    for module in ("onnx", "onnxscript", "onnxruntime"):
        require(module, "onnx", "ONNX export")

    from lepton_core.bundle import add_bundle_file, load_bundle

    bundle_dir = Path(bundle_dir)
    loaded = load_bundle(bundle_dir, trusted_keys=trusted_keys)
    predictor = loaded.predictor
    module = getattr(predictor, "module", None)
    if module is None:
        raise ServeError(f"bundle of task '{loaded.task}' has no torch module to export", "serve it with the torch runtime")
    records = [*loaded.manifest.get("input_example", []), *examples]
    if not records:
        raise ServeError("bundle has no input example to check the export against", "pass held-out items with --examples")
    items = predictor.validate(records)
    module.eval()
    export_inputs = predictor.preprocess(items if len(items) > 1 else items * 2)
    with torch.inference_mode():
        n_outputs = len(_as_list(module(*export_inputs)))
    with tempfile.TemporaryDirectory(prefix="lepton-onnx-") as tmp:
        path = Path(tmp) / ONNX_NAME
        exporter = _torch_export(module, export_inputs, path, n_outputs)
        runner = OnnxRunner(path)
        worst = 0.0
        for inputs in _parity_batches(predictor, items):
            with torch.inference_mode():
                expected = _as_list(module(*inputs))
            worst = max(worst, _max_abs_diff(expected, _as_list(runner(inputs))))
        if not worst <= tolerance:
            raise ServeError(
                f"ONNX export refused: its outputs differ from torch by {worst:.3g} on {len(items)} held-out "
                f"example(s), above the tolerance {tolerance:g}",
                "keep serving the bundle with the torch runtime, or make the module's forward pure tensor ops",
            )
        record = {
            "file": ONNX_NAME,
            "parity_checked": True,
            "exporter": exporter,
            "opset": _opset(path),
            "torch": torch.__version__.split("+")[0],
            "parity": {"examples": len(items), "max_abs_diff": worst, "tolerance": tolerance},
            "inputs": runner.input_names,
        }
        add_bundle_file(bundle_dir, ONNX_NAME, path, {"onnx": record})
    return OnnxExport(bundle_dir / ONNX_NAME, exporter, len(items), worst, tolerance)


def _opset(path: Path) -> int | None:
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return next((int(o.version) for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
