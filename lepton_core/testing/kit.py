"""The plugin contract kit: the checks every Lepton plugin should pass, to call from the plugin's own tests.

One call runs them all, for every task of the plugin (or one)::

    # plugins/finance/tests/test_finance_contract.py
    import pytest
    from lepton_core.testing import check_plugin, task_names

    @pytest.mark.parametrize("task", task_names("finance"))
    def test_finance_contract(task, tmp_path):
        check_plugin("finance", tmp_path, task=task, overrides=["data.n_rows=600"])

``overrides`` are Hydra overrides added to every task's run (a mapping ``{task: [...]}`` gives each task its
own); use them to make the demo data small. What ``check_plugin`` verifies, in order (each step is also a
function of its own, for a test that wants only one):

1. ``check_describe``: the plugin loaded, ``lepton_describe`` returns a valid PluginInfo (version, tasks with
   identifier names and one-line summaries, default task, importable config package), and importing the
   plugin module stays cheap (no torch, lightning, pandas or sklearn in a fresh interpreter).
2. ``check_config_package``: the config package holds only ``plugin/<name>.yaml``, ``task/<name>/...`` and
   ``hparams_search/<name>.yaml`` at its top level, and one ``task/<name>/<task>.yaml`` per task.
3. ``check_task_config``: each task's config composes with the core's configs (Hydra compose API), names
   the right plugin and task, resolves every interpolation, its ``_target_`` classes and its
   ``task.evaluate`` / ``task.export`` functions import; it names
   no ``predictor._target_`` (bundles never name code: the task's ``TaskInfo.predictor`` does, and must
   import a Predictor); the plugin's ``hparams_search/<name>.yaml``, when present, composes too.
4. ``check_fit``: a tiny run through the real pipeline on CPU (``debug=smoke``: one epoch, three batches)
   trains at least one step, evaluates model and baselines with snake_case metric names and a finite
   primary metric for the model, and writes metrics.json, report.html, its figures and a bundle.
5. ``check_bundle``: the bundle loads (every sha256 verified, no pickle files), its predictor answers its
   own ``input_example`` with outputs that match the output schema and the outputs recorded at bundle
   time (numbers within 1e-4; fields named ``*_s``, ``*_ms`` or ``*_seconds`` are measured durations and
   are not compared), and a malformed item raises DataError.

A failed check raises ``ContractError`` (an AssertionError) whose message names the plugin, the task, the
problem and the fix.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lepton_core.hooks.markers import hookimpl
from lepton_core.hooks.specs import PluginInfo

if TYPE_CHECKING:
    from omegaconf import DictConfig

    from lepton_core.bundle import LoadedBundle
    from lepton_core.hooks.manager import PluginManager
    from lepton_core.pipeline.run import RunResult

__all__ = [
    "ContractError",
    "ContractReport",
    "TaskReport",
    "check_bundle",
    "check_config_package",
    "check_describe",
    "check_fit",
    "check_plugin",
    "check_task_config",
    "composed_config",
    "task_names",
]

HEAVY_MODULES = ("torch", "lightning", "pandas", "sklearn")
PICKLE_SUFFIXES = (".pkl", ".pickle", ".pt", ".pth", ".ckpt", ".joblib")
PACKAGE_MARKERS = ("__init__.py", "__pycache__")
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
DURATION_SUFFIXES = ("_s", "_ms", "_seconds")
Overrides = Sequence[str] | Mapping[str, Sequence[str]]


class ContractError(AssertionError):
    """A plugin breaks the Lepton contract; the message says where and how to fix it."""


@dataclass(frozen=True)
class TaskReport:
    """What the kit's run of one task produced."""

    task: str
    run_dir: Path
    bundle_dir: Path
    metrics: Mapping[str, Mapping[str, float]]
    primary_metric: str
    seconds: float


@dataclass(frozen=True)
class ContractReport:
    """The plugin's description and one TaskReport per task checked."""

    info: PluginInfo
    tasks: dict[str, TaskReport] = field(default_factory=dict)


def _fail(plugin: str, problem: str, fix: str, task: str | None = None) -> ContractError:
    where = f"plugin '{plugin}'" + (f" task '{task}'" if task else "")
    return ContractError(f"{where}: {problem}. Fix: {fix}.")


def _manager() -> PluginManager:
    from lepton_core.hooks.manager import get_plugin_manager

    return get_plugin_manager()


def task_names(name: str) -> list[str]:
    """The tasks a plugin declares (for ``pytest.mark.parametrize``); a plugin that did not load fails."""
    return check_describe(name, check_import=False).task_names()


# --------------------------------------------------------------------------------------------- describe


def check_describe(name: str, check_import: bool = True) -> PluginInfo:
    """The plugin loaded and describes itself completely; importing its module stays cheap."""
    manager = _manager()
    record = manager.records.get(name)
    if record is None:
        installed = ", ".join(sorted(manager.records)) or "none"
        raise _fail(
            name, f"is not installed (installed: {installed})", "pip install -e the plugin's directory"
        )
    if record.info is None:
        raise _fail(
            name, f"did not load ({record.status}: {record.error})", "run `lepton plugins` and fix the error"
        )
    info = record.info
    if not info.version or not re.match(r"^\d", info.version):
        raise _fail(name, f"version '{info.version}' does not start with a number", "set PluginInfo.version")
    if not info.summary.strip():
        raise _fail(name, "PluginInfo.summary is empty", "describe the plugin in one line")
    if not info.tasks:
        raise _fail(name, "declares no task", "add at least one TaskInfo to PluginInfo.tasks")
    names = info.task_names()
    if len(set(names)) != len(names):
        raise _fail(name, f"declares a task twice ({', '.join(names)})", "give each task a unique name")
    for task in info.tasks:
        if not IDENTIFIER.match(task.name):
            raise _fail(
                name, f"task name '{task.name}' is not a lowercase identifier", "rename it (a-z, 0-9, _)"
            )
        if not task.summary.strip() or "\n" in task.summary:
            raise _fail(
                name, f"task '{task.name}' needs a one-line summary", "set TaskInfo.summary to one line"
            )
    try:
        resources.files(info.config_package)
    except ModuleNotFoundError:
        raise _fail(
            name,
            f"config package '{info.config_package}' cannot be imported",
            "add its __init__.py and package-data",
        ) from None
    if check_import:
        _check_cheap_import(name, record.target)
    return info


def _check_cheap_import(name: str, target: str) -> None:
    module = target.split(":")[0]
    probe = (
        "import importlib, json, sys; importlib.import_module(sys.argv[1]); "
        f"print(json.dumps([m for m in {HEAVY_MODULES!r} if m in sys.modules]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, module], check=False, capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        raise _fail(
            name, f"importing {module} fails in a fresh interpreter ({last})", "fix the plugin module"
        )
    heavy = json.loads(done.stdout.strip().splitlines()[-1])
    if heavy:
        raise _fail(
            name,
            f"importing {module} imports {', '.join(heavy)}",
            "import heavy libraries inside the hook functions, not at module level",
        )


# --------------------------------------------------------------------------------------------- configs


def check_config_package(name: str, tasks: Sequence[str] | None = None) -> None:
    """The config package is namespaced (only plugin/<name>.yaml, task/<name>/*, hparams_search/<name>.yaml).

    Also checks that ``task/<name>/<task>.yaml`` exists for each of ``tasks`` (default: every declared task).
    """
    info = check_describe(name, check_import=False)
    root = resources.files(info.config_package)
    allowed = {"plugin": {f"{name}.yaml"}, "task": {name}, "hparams_search": {f"{name}.yaml"}}
    for entry in root.iterdir():
        if entry.name in PACKAGE_MARKERS:
            continue
        if entry.name not in allowed or not entry.is_dir():
            raise _fail(
                name,
                f"config package {info.config_package} has '{entry.name}' at its top level",
                "keep only plugin/<name>.yaml, task/<name>/ and hparams_search/<name>.yaml there",
            )
        for member in entry.iterdir():
            if member.name not in PACKAGE_MARKERS and member.name not in allowed[entry.name]:
                expected = next(iter(allowed[entry.name]))
                raise _fail(
                    name,
                    f"config package {info.config_package} has {entry.name}/{member.name}",
                    f"name it {entry.name}/{expected}: other names can shadow other plugins",
                )
    if not root.joinpath("plugin", f"{name}.yaml").is_file():
        raise _fail(
            name, f"{info.config_package} lacks plugin/{name}.yaml", f"add it with the line `name: {name}`"
        )
    for task in info.task_names() if tasks is None else tasks:
        if not root.joinpath("task", name, f"{task}.yaml").is_file():
            raise _fail(
                name,
                f"{info.config_package} lacks task/{name}/{task}.yaml",
                "add the task's config (first line `# @package _global_`)",
                task,
            )


def _overrides_for(overrides: Overrides, task: str) -> list[str]:
    if isinstance(overrides, Mapping):
        return list(overrides.get(task, ()))
    return list(overrides)


@contextlib.contextmanager
def composed_config(
    name: str, task: str, overrides: Sequence[str] = (), run_dir: Path | None = None
) -> Iterator[DictConfig]:
    """Compose the config of ``lepton run plugin=NAME task=TASK OVERRIDES`` with Hydra's compose API.

    Inside the block Hydra's runtime config is set as in a real run (``${hydra:runtime.output_dir}`` is
    ``run_dir``), so the yielded config resolves and can be handed to ``run_pipeline``.
    """
    from hydra import compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import open_dict, read_write

    from lepton_core.config.searchpath import register_search_path_plugin
    from lepton_core.errors import LeptonError

    register_search_path_plugin()
    if GlobalHydra.instance().is_initialized():
        GlobalHydra.instance().clear()
    hydra_args = [f"plugin={name}", f"task={name}/{task}", *overrides]
    previous = HydraConfig.instance().cfg
    with initialize_config_module(config_module="lepton_core.configs", version_base="1.3"):
        try:
            full = compose(config_name="lepton", overrides=hydra_args, return_hydra_config=True)
        except LeptonError:
            raise
        except Exception as exc:  # noqa: BLE001 - any Hydra failure becomes a contract message
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise _fail(
                name, f"config does not compose with {hydra_args} ({message})", "fix the task yaml", task
            ) from None
        output_dir = Path(run_dir) if run_dir is not None else Path.cwd() / "outputs" / name / task
        with read_write(full.hydra.runtime), open_dict(full.hydra.runtime):
            full.hydra.runtime.output_dir = str(output_dir.resolve())
        HydraConfig.instance().set_config(full)
        cfg = copy.deepcopy(full)
        with read_write(cfg), open_dict(cfg):
            del cfg["hydra"]
        try:
            yield cfg
        finally:
            HydraConfig.instance().cfg = previous


def check_task_config(name: str, task: str, overrides: Sequence[str] = ()) -> dict[str, Any]:
    """The task's config composes, names the plugin and task, resolves, and its ``_target_``s import."""
    from hydra.utils import get_class
    from omegaconf import OmegaConf

    with composed_config(name, task, overrides) as cfg:
        try:
            resolved = OmegaConf.to_container(cfg, resolve=True)
        except Exception as exc:  # noqa: BLE001 - any interpolation failure
            raise _fail(
                name, f"config does not resolve ({exc})", "fix the interpolation it names", task
            ) from None
    if resolved.get("plugin", {}).get("name") != name:
        raise _fail(name, f"plugin/{name}.yaml sets name '{resolved.get('plugin')}'", f"write `name: {name}`")
    if (resolved.get("task") or {}).get("name") != task:
        raise _fail(
            name,
            f"task/{name}/{task}.yaml sets task.name '{(resolved.get('task') or {}).get('name')}'",
            f"set `task: {{name: {task}}}` (first line `# @package _global_`)",
            task,
        )
    _check_predictor_registration(name, task, resolved)
    _check_task_functions(name, task, resolved)
    for group in ("data", "model"):
        node = resolved.get(group)
        if isinstance(node, dict) and "_target_" in node:
            try:
                get_class(node["_target_"])
            except Exception as exc:  # noqa: BLE001 - import errors of any kind
                raise _fail(
                    name,
                    f"{group}._target_ '{node['_target_']}' does not import ({exc})",
                    "fix the class path",
                    task,
                ) from None
    return resolved


def _check_task_functions(name: str, task: str, resolved: dict[str, Any]) -> None:
    """``task.evaluate`` / ``task.export``, when set, name importable functions (``package.module:function``)."""
    from omegaconf import OmegaConf

    from lepton_core.errors import ConfigError
    from lepton_core.hooks.defaults import ROUTE_KEYS, task_function
    from lepton_core.hooks.specs import RunContext

    ctx = RunContext(cfg=OmegaConf.create(resolved), plugin=name, task=task, run_dir=Path("."), seed=0)
    for key in ROUTE_KEYS:
        try:
            task_function(ctx, key)
        except ConfigError as exc:
            raise _fail(name, exc.problem, exc.fix or "fix the task yaml", task) from None


def _check_predictor_registration(name: str, task: str, resolved: dict[str, Any]) -> None:
    """No predictor class in the config (a bundle would carry it); TaskInfo.predictor imports a Predictor."""
    import importlib

    from lepton_core.deploy.predictor import Predictor

    if "_target_" in (resolved.get("predictor") or {}):
        raise _fail(
            name,
            f"the config names predictor._target_ '{resolved['predictor']['_target_']}' (bundles must not name code)",
            "remove predictor._target_ and set TaskInfo(..., predictor='package.module:Class') in lepton_describe",
            task,
        )
    info = check_describe(name, check_import=False)
    spec = next((t.predictor for t in info.tasks if t.name == task), "")
    if not spec:
        return
    module_name, _, class_name = spec.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except Exception as exc:  # noqa: BLE001 - import errors of any kind
        raise _fail(name, f"TaskInfo.predictor '{spec}' does not import ({exc})", "write 'package.module:Class'", task) from None
    if not (isinstance(cls, type) and issubclass(cls, Predictor)):
        raise _fail(name, f"TaskInfo.predictor '{spec}' is not a Predictor class", "point it at your Predictor", task)


def _check_hparams_search(name: str, task: str, overrides: Sequence[str]) -> None:
    info = check_describe(name, check_import=False)
    if not resources.files(info.config_package).joinpath("hparams_search", f"{name}.yaml").is_file():
        return
    from hydra.core.hydra_config import HydraConfig

    with composed_config(name, task, [*overrides, f"hparams_search={name}"]) as cfg:
        sweeper = HydraConfig.get().sweeper
        mode = str(cfg.task.get("monitor_mode", "min"))
    if "optuna" not in str(sweeper.get("_target_", "")).lower() or not sweeper.get("params"):
        raise _fail(
            name,
            f"hparams_search/{name}.yaml does not set the optuna sweeper with params",
            "override /hydra/sweeper: optuna and list hydra.sweeper.params",
        )
    expected = "maximize" if mode == "max" else "minimize"
    if str(sweeper.get("direction")) != expected:
        raise _fail(
            name,
            f"hparams_search/{name}.yaml sets direction {sweeper.get('direction')}, "
            f"trials score the validation task.monitor (mode {mode}), which needs {expected}",
            f"set hydra.sweeper.direction: {expected}",
            task,
        )


# --------------------------------------------------------------------------------------------- fit


class _StageRecorder:
    """Lifecycle hooks that keep what each stage produced (the kit reads the trainer from them)."""

    def __init__(self) -> None:
        self.results: dict[str, Any] = {}
        self.failed: tuple[str, BaseException] | None = None

    @hookimpl
    def lepton_after_stage(self, ctx: Any, stage: str, result: Any) -> None:
        """Keep the stage's result."""
        self.results[stage] = result

    @hookimpl
    def lepton_on_error(self, ctx: Any, stage: str, error: BaseException) -> None:
        """Keep the failing stage."""
        self.failed = (stage, error)


def check_fit(
    name: str, task: str, tmp_path: Path, overrides: Sequence[str] = (), debug: str = "smoke"
) -> RunResult:
    """A tiny CPU run of the task through the real pipeline trains, evaluates and writes every output."""
    from lepton_core.errors import LeptonError
    from lepton_core.pipeline.run import run_pipeline

    manager = _manager()
    run_dir = Path(tmp_path) / "kit" / name / task
    recorder = _StageRecorder()
    args = [f"debug={debug}", "trainer.accelerator=cpu", "trainer.devices=1", *overrides]
    try:
        with composed_config(name, task, args, run_dir) as cfg:
            result = run_pipeline(cfg, manager.for_run(extra={"lepton.kit.recorder": recorder}))
    except LeptonError as exc:
        stage = recorder.failed[0] if recorder.failed else "setup"
        raise _fail(
            name, f"the smoke run failed at stage '{stage}': {exc}", "fix what the error names", task
        ) from exc
    model, trainer = recorder.results.get("train", (None, None))
    if model is not None and (trainer is None or trainer.global_step < 1):
        raise _fail(name, "the smoke run trained no step", "make train_dataloader yield batches", task)
    _check_evaluation(name, task, result, model is not None)
    for output in ("metrics.json", "report.html"):
        if not (result.run_dir / output).is_file():
            raise _fail(name, f"the run wrote no {output}", "let the pipeline's report stage finish", task)
    if result.bundle_dir is None or not result.bundle_dir.is_dir():
        raise _fail(name, "the run wrote no bundle", "return an Export from lepton_export", task)
    return result


def _check_evaluation(name: str, task: str, result: RunResult, trained: bool) -> None:
    evaluation = result.evaluation
    if evaluation is None:
        raise _fail(name, "the run returned no evaluation", "implement lepton_evaluate", task)
    if trained and "model" not in evaluation.metrics:
        raise _fail(
            name, "Evaluation.metrics has no 'model' entry", "score the model under the key 'model'", task
        )
    for contender, metrics in evaluation.metrics.items():
        for metric, value in metrics.items():
            if not IDENTIFIER.match(str(metric)):
                raise _fail(name, f"metric '{metric}' of '{contender}' is not snake_case", "rename it", task)
            try:
                float(value)
            except (TypeError, ValueError):
                raise _fail(
                    name,
                    f"metric '{metric}' of '{contender}' is not a number ({value!r})",
                    "return floats",
                    task,
                ) from None
    model_metrics = evaluation.metrics.get("model", {})
    if "model" in evaluation.metrics:
        score = model_metrics.get(evaluation.primary_metric)
        if score is None:
            raise _fail(
                name,
                f"primary metric '{evaluation.primary_metric}' is not among the model's metrics",
                "set Evaluation.primary_metric to one of them",
                task,
            )
        if not math.isfinite(float(score)):
            raise _fail(
                name,
                f"the model's primary metric '{evaluation.primary_metric}' is {score} on the smoke run",
                "give the kit overrides that make the test split meaningful (more rows)",
                task,
            )
    for figure in evaluation.figures:
        path = Path(figure.path)
        if not path.is_file() or result.run_dir.resolve() not in path.resolve().parents:
            raise _fail(
                name,
                f"figure '{figure.title}' is not a file in the run directory ({path})",
                "save it under ctx.figures_dir",
                task,
            )


# --------------------------------------------------------------------------------------------- bundle


def _is_duration(key: Any) -> bool:
    return isinstance(key, str) and key.endswith(DURATION_SUFFIXES)


def _close(a: Any, b: Any, rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    """Equal JSON values, numbers within tolerance; durations (keys ``*_s``, ``*_ms``...) are not compared."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_is_duration(k) or _close(a[k], b[k], rtol, atol) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_close(x, y, rtol, atol) for x, y in zip(a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        if math.isnan(a) and math.isnan(b):
            return True
        return math.isclose(float(a), float(b), rel_tol=rtol, abs_tol=atol)
    return a == b


def _json_ready(value: Any) -> Any:
    return json.loads(json.dumps(value, default=lambda o: o.item() if hasattr(o, "item") else str(o)))


def check_bundle(bundle_dir: Path, name: str | None = None, task: str | None = None) -> LoadedBundle:
    """The bundle loads with every hash verified and its predictor answers its own input example."""
    from lepton_core.bundle import load_bundle
    from lepton_core.deploy.predictor import Predictor
    from lepton_core.errors import DataError, LeptonError

    bundle_dir = Path(bundle_dir)
    label = name or "?"
    try:
        bundle = load_bundle(bundle_dir, trusted_keys=())
    except LeptonError as exc:
        raise _fail(label, f"the bundle does not load ({exc})", "fix what the error names", task) from exc
    manifest = bundle.manifest
    if name is not None and bundle.plugin != name:
        raise _fail(label, f"the bundle names plugin '{bundle.plugin}'", "check PluginInfo.name", task)
    if task is not None and bundle.task != task:
        raise _fail(label, f"the bundle names task '{bundle.task}'", "check task.name in the task yaml", task)
    pickled = [p.name for p in bundle_dir.rglob("*") if p.suffix in PICKLE_SUFFIXES]
    if pickled:
        raise _fail(
            label, f"the bundle holds pickle-like files {pickled}", "store state as JSON or safetensors", task
        )
    predictor = bundle.predictor
    if not isinstance(predictor, Predictor):
        raise _fail(
            label,
            f"the predictor is a {type(predictor).__name__}",
            "subclass lepton_core.deploy.Predictor",
            task,
        )
    example = manifest.get("input_example") or []
    if not example:
        raise _fail(
            label, "the bundle has an empty input_example", "return examples from lepton_export", task
        )
    try:
        outputs = _json_ready(predictor.predict(example))
    except Exception as exc:
        raise _fail(
            label,
            f"the reloaded predictor rejects its input example ({type(exc).__name__}: {exc})",
            "fix the predictor",
            task,
        ) from exc
    if len(outputs) != len(example):
        raise _fail(
            label, f"{len(example)} input items gave {len(outputs)} outputs", "return one dict per item", task
        )
    for index, output in enumerate(outputs):
        try:
            predictor.output_model.model_validate(output)
        except Exception as exc:  # noqa: BLE001 - pydantic or custom validation
            first = str(exc).splitlines()[:2]
            raise _fail(
                label,
                f"output {index} does not match output_model ({' '.join(first)})",
                "fix postprocess",
                task,
            ) from None
    if not _close(outputs, manifest.get("output_example")):
        raise _fail(
            label,
            "the reloaded bundle predicts differently from the model that wrote it",
            "make preprocess/postprocess depend only on the bundle's config, state and weights",
            task,
        )
    required = predictor.input_model.model_json_schema().get("required")
    if required:
        try:
            predictor.predict([{}])
        except DataError:
            pass
        except Exception as exc:  # noqa: BLE001 - anything but DataError breaks the contract
            raise _fail(
                label,
                f"an empty input item raises {type(exc).__name__}, not DataError",
                "let Predictor.validate run",
                task,
            ) from None
        else:
            raise _fail(
                label, "an empty input item was accepted", "declare the required fields in input_model", task
            )
    return bundle


# --------------------------------------------------------------------------------------------- all


def check_plugin(
    name: str,
    tmp_path: Path,
    task: str | None = None,
    overrides: Overrides = (),
    debug: str = "smoke",
) -> ContractReport:
    """Run every contract check for one task of the plugin, or for all; return what the runs produced."""
    info = check_describe(name)
    tasks = [task] if task is not None else info.task_names()
    for current in tasks:
        if current not in info.task_names():
            raise _fail(
                name, f"has no task '{current}' (tasks: {', '.join(info.task_names())})", "pass one of them"
            )
    check_config_package(name, tasks)
    report = ContractReport(info)
    for current in tasks:
        args = _overrides_for(overrides, current)
        start = time.perf_counter()
        check_task_config(name, current, args)
        result = check_fit(name, current, tmp_path, args, debug)
        assert result.evaluation is not None and result.bundle_dir is not None
        _check_hparams_search(name, current, args)
        check_bundle(result.bundle_dir, name, current)
        report.tasks[current] = TaskReport(
            task=current,
            run_dir=result.run_dir,
            bundle_dir=result.bundle_dir,
            metrics=result.evaluation.metrics,
            primary_metric=result.evaluation.primary_metric,
            seconds=time.perf_counter() - start,
        )
    return report
