"""Bundle trust: a bundle from a stranger cannot run code, read host files or serve random weights.

Every hostile bundle below is built from a real bundle (the example run's) by an attacker who can edit any
file and re-hash the manifest. Each must be refused with a one-line BundleError by the API and by
`lepton predict`, the load path of `lepton serve` and `lepton export`; a probe module, a custom resolver
and a sentinel file prove that nothing named by the bundle was imported, resolved or run.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from lepton_core import BundleError
from lepton_core.atomic import atomic_path, atomic_write_text, current_umask, staging_dir
from lepton_core.bundle import load_bundle, verify_bundle
from lepton_core.bundle.manifest import file_sha256
from lepton_core.bundle.signing import SIGNATURE_NAME, TRUSTED_KEYS_ENV, generate_keypair, sign_bundle

PROBE = "lepton_hostile_probe"  # a real, importable module: importing or instantiating it writes the sentinel


class Probe:
    """Where a hostile bundle would leave a trace if any code it names ran."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.sentinel = root / "SENTINEL"
        self.pickle = root / "evil.pkl"
        self.outside = root / "outside.yaml"

    def ran(self) -> bool:
        """True when the probe module was imported, the resolver called or the sentinel written."""
        return self.sentinel.exists() or PROBE in sys.modules


class _WriteSentinel:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple:
        return (Path.write_text, (self.path, "pickle ran"))


@pytest.fixture
def probe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Probe:
    """An importable probe module, a custom resolver and a pickle, each writing the sentinel if used."""
    from omegaconf import OmegaConf

    root = tmp_path / "probe"
    root.mkdir()
    found = Probe(root)
    (root / f"{PROBE}.py").write_text(
        f"from pathlib import Path\nPath({str(found.sentinel)!r}).write_text('imported')\n"
        "class Boom:\n    def __init__(self, *a, **k):\n"
        f"        Path({str(found.sentinel)!r}).write_text('instantiated')\n"
    )
    found.pickle.write_bytes(pickle.dumps(_WriteSentinel(found.sentinel)))
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.delenv(TRUSTED_KEYS_ENV, raising=False)
    monkeypatch.setenv("LEPTON_PROBE_SECRET", "host-secret-value")
    OmegaConf.register_new_resolver("lepton_probe", lambda *_: found.sentinel.write_text("resolved"), replace=True)
    yield found
    OmegaConf.clear_resolver("lepton_probe")
    sys.modules.pop(PROBE, None)


@pytest.fixture
def bundle(example_run: Path, tmp_path: Path) -> Path:
    """A private copy of the example run's bundle."""
    return Path(shutil.copytree(example_run / "bundle", tmp_path / "bundle"))


def rehash(bundle: Path) -> None:
    """Recompute every listed file's sha256, as an attacker who edits files would."""
    path = bundle / "lepton.json"
    manifest = json.loads(path.read_text())
    manifest["files"] = {name: file_sha256(bundle / name) for name in manifest["files"]}
    path.write_text(json.dumps(manifest, indent=2))


def _edit_config(change: Callable[[dict, Probe], None]) -> Callable[[Path, Probe], None]:
    def mutate(bundle: Path, probe: Probe) -> None:
        cfg = yaml.safe_load((bundle / "config.yaml").read_text())
        change(cfg, probe)
        (bundle / "config.yaml").write_text(yaml.safe_dump(cfg))
        rehash(bundle)

    return mutate


def _append_config(text: Callable[[Probe], str]) -> Callable[[Path, Probe], None]:
    def mutate(bundle: Path, probe: Probe) -> None:
        with (bundle / "config.yaml").open("a") as handle:
            handle.write(text(probe))
        rehash(bundle)

    return mutate


def _edit_manifest(change: Callable[[dict, Probe], None]) -> Callable[[Path, Probe], None]:
    def mutate(bundle: Path, probe: Probe) -> None:
        rehash(bundle)
        path = bundle / "lepton.json"
        manifest = json.loads(path.read_text())
        change(manifest, probe)
        path.write_text(json.dumps(manifest))

    return mutate


def _raw_manifest(text: Callable[[bytes], bytes]) -> Callable[[Path, Probe], None]:
    def mutate(bundle: Path, probe: Probe) -> None:
        rehash(bundle)
        path = bundle / "lepton.json"
        path.write_bytes(text(path.read_bytes()))

    return mutate


def _symlinked_config(bundle: Path, probe: Probe) -> None:
    shutil.copy(bundle / "config.yaml", probe.outside)
    (bundle / "config.yaml").unlink()
    (bundle / "config.yaml").symlink_to(probe.outside)
    rehash(bundle)


def _symlinked_manifest(bundle: Path, probe: Probe) -> None:
    rehash(bundle)
    outside = probe.root / "lepton.json"
    shutil.move(bundle / "lepton.json", outside)
    (bundle / "lepton.json").symlink_to(outside)


def _symlinked_folder(bundle: Path, probe: Probe) -> None:
    (probe.root / "data").mkdir()
    (probe.root / "data" / "x.json").write_text("{}")
    (bundle / "sub").symlink_to(probe.root / "data")
    manifest = json.loads((bundle / "lepton.json").read_text())
    manifest["files"]["sub/x.json"] = ""
    (bundle / "lepton.json").write_text(json.dumps(manifest))
    rehash(bundle)


def _state(change: Callable[[dict], object]) -> Callable[[Path, Probe], None]:
    def mutate(bundle: Path, probe: Probe) -> None:
        state = json.loads((bundle / "preprocess.json").read_text())
        change(state)
        (bundle / "preprocess.json").write_text(json.dumps(state))
        rehash(bundle)

    return mutate


def _state_text(text: str) -> Callable[[Path, Probe], None]:
    def mutate(bundle: Path, probe: Probe) -> None:
        (bundle / "preprocess.json").write_text(text)
        rehash(bundle)

    return mutate


def _external_onnx(bundle: Path, probe: Probe) -> None:
    import onnx
    from onnx import TensorProto, helper

    secret = probe.root / "host_secret.bin"
    secret.write_bytes(b"\0" * 8)
    weight = helper.make_tensor("w", TensorProto.FLOAT, [2], [0.0, 0.0])
    weight.ClearField("float_data")
    weight.data_location = TensorProto.EXTERNAL
    for key, value in (("location", os.path.relpath(secret, bundle)), ("offset", "0"), ("length", "8")):
        entry = weight.external_data.add()
        entry.key, entry.value = key, value
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "w"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2])],
        [weight],
    )
    onnx.save(helper.make_model(graph), str(bundle / "model.onnx"))
    manifest = json.loads((bundle / "lepton.json").read_text())
    manifest["files"]["model.onnx"] = ""
    manifest["onnx"] = {"file": "model.onnx", "parity_checked": True, "inputs": ["x"]}
    (bundle / "lepton.json").write_text(json.dumps(manifest))
    rehash(bundle)


def _in_manifest_files(name: str) -> Callable[[dict, Probe], None]:
    def change(manifest: dict, probe: Probe) -> None:
        manifest["files"][name.replace("PROBE", str(probe.root))] = "0" * 64

    return change


HOSTILE: list[tuple[str, Callable[[Path, Probe], None], str]] = [
    # code named by the config: Hydra targets, chains, partials, positional args
    (
        "predictor target to the probe module",
        _edit_config(lambda cfg, p: cfg.update(predictor={"_target_": f"{PROBE}.Boom"})),
        "names code",
    ),
    (
        "model target pathlib write_text chain",
        _edit_config(
            lambda cfg, p: cfg.update(
                model={"_target_": "pathlib.Path.write_text", "self": {"_target_": "pathlib.Path", "_args_": [str(p.sentinel)]}, "data": "x"}
            )
        ),
        "names code",
    ),
    (
        "model target pandas read_pickle",
        _edit_config(lambda cfg, p: cfg.update(model={"_target_": "pandas.read_pickle", "filepath_or_buffer": str(p.pickle)})),
        "names code",
    ),
    (
        "builtins exec with _args_",
        _edit_config(lambda cfg, p: cfg.update(data={"_target_": "builtins.exec", "_args_": [f"open({str(p.sentinel)!r}, 'w')"]})),
        "names code",
    ),
    (
        "partial target nested in a list",
        _edit_config(lambda cfg, p: cfg.update(callbacks=[{"_target_": f"{PROBE}.Boom", "_partial_": True}])),
        "names code",
    ),
    # resolvers and interpolations
    ("oc.env resolver", _append_config(lambda p: "leak: ${oc.env:LEPTON_PROBE_SECRET}\n"), "interpolation"),
    ("custom resolver", _append_config(lambda p: "x: ${lepton_probe:now}\n"), "interpolation"),
    ("interpolation in a key", _append_config(lambda p: "'${oc.env:HOME}': 1\n"), "interpolation"),
    ("interpolation in model_kwargs", _edit_manifest(lambda m, p: m["model_kwargs"].update(hidden="${oc.env:HOME}")), "interpolation"),
    # YAML tags and constructs
    (
        "yaml python object tag",
        _append_config(lambda p: f"evil: !!python/object/apply:pathlib.Path.write_text [!!python/object/apply:pathlib.Path [{str(p.sentinel)!r}], x]\n"),
        "not valid bundle YAML",
    ),
    ("yaml python name tag", _append_config(lambda p: f"evil: !!python/name:{PROBE}.Boom\n"), "not valid bundle YAML"),
    ("yaml binary tag", _append_config(lambda p: "blob: !!binary aGVsbG8=\n"), "bytes"),
    ("yaml alias", _append_config(lambda p: "a: &x [1, 2]\nb: *x\n"), "aliases"),
    ("yaml duplicate key", _append_config(lambda p: "seed: 1\nseed: 2\n"), "duplicate key"),
    ("invalid yaml", _append_config(lambda p: "broken: [unclosed\n"), "not valid bundle YAML"),
    # code named by the manifest
    (
        "model_kwargs naming a target",
        _edit_manifest(lambda m, p: m["model_kwargs"].update(_target_="pathlib.Path.write_text")),
        "names code",
    ),
    ("model_kwargs the class does not take", _edit_manifest(lambda m, p: m["model_kwargs"].update(evil=1)), "do not fit"),
    ("model_kwargs not a mapping", _edit_manifest(lambda m, p: m.update(model_kwargs=[1])), "not a mapping"),
    ("model_kwargs resized", _edit_manifest(lambda m, p: m["model_kwargs"].update(hidden=64)), "weight"),
    # path tricks
    ("manifest lists a parent path", _edit_manifest(_in_manifest_files("../escape.json")), "unsafe file name"),
    ("manifest lists an absolute path", _edit_manifest(_in_manifest_files("PROBE/outside.yaml")), "unsafe file name"),
    ("manifest lists a home path", _edit_manifest(_in_manifest_files("~/.ssh/id_rsa")), "unsafe file name"),
    ("config is a symlink out", _symlinked_config, "symbolic link|outside"),
    ("manifest is a symlink", _symlinked_manifest, "symbolic link"),
    ("folder symlinked out", _symlinked_folder, "outside the bundle|symbolic link"),
    ("manifest lists itself", _edit_manifest(_in_manifest_files("lepton.json")), "lists itself|sha256"),
    # odd JSON
    ("manifest duplicate key", _raw_manifest(lambda t: t.replace(b'"task":', b'"task": "noisy", "task":', 1)), "repeats the key"),
    ("manifest files not a dict", _edit_manifest(lambda m, p: m.update(files=list(m["files"]))), "'files' is not a mapping"),
    ("manifest hash not a string", _edit_manifest(lambda m, p: m["files"].update({"config.yaml": 1})), "not a sha256"),
    ("manifest not an object", _raw_manifest(lambda t: b"[" + t + b"]"), "not a Lepton bundle manifest"),
    ("manifest NaN", _raw_manifest(lambda t: t.replace(b'"format_version": 1', b'"format_version": NaN')), "non-JSON constant"),
    ("manifest not UTF-8", _raw_manifest(lambda t: t.replace(b'"task"', b'"t\xffask"')), "not valid JSON"),
    ("manifest nested too deep", _edit_manifest(lambda m, p: m.update(deep=json.loads("[" * 200 + "]" * 200))), "deeper"),
    ("manifest plugin not a string", _edit_manifest(lambda m, p: m.update(plugin={"name": ["example"]})), "'plugin'"),
    ("state with Infinity", _state(lambda s: s.update(mean=[float("inf"), 0.0])), "non-JSON constant"),
    ("state not an object", _state_text("[1]"), "not a JSON object"),
    ("state missing a key", _state(lambda s: s.pop("mean")), "does not hold what its predictor needs"),
    # weights
    ("weights deleted with their manifest line", lambda b, p: ((b / "weights.safetensors").unlink(), _drop(b, "weights.safetensors")), "no weights.safetensors"),
    ("weights truncated", lambda b, p: (_truncate(b / "weights.safetensors"), rehash(b)), "not a valid safetensors"),
    ("weights garbage", lambda b, p: ((b / "weights.safetensors").write_bytes(os.urandom(256)), rehash(b)), "not a valid safetensors"),
    ("weights with an extra tensor", lambda b, p: (_retensor(b, extra=True), rehash(b)), "unexpected"),
    ("weights missing a tensor", lambda b, p: (_retensor(b, drop=True), rehash(b)), "missing"),
    ("weights of another dtype", lambda b, p: (_retensor(b, double=True), rehash(b)), "float64"),
    # ONNX
    ("onnx with external data", _external_onnx, "external file"),
]


def _drop(bundle: Path, name: str) -> None:
    manifest = json.loads((bundle / "lepton.json").read_text())
    del manifest["files"][name]
    (bundle / "lepton.json").write_text(json.dumps(manifest))
    rehash(bundle)


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _retensor(bundle: Path, extra: bool = False, drop: bool = False, double: bool = False) -> None:
    import torch
    from safetensors.torch import load_file, save_file

    tensors = load_file(str(bundle / "weights.safetensors"))
    if extra:
        tensors["evil"] = torch.zeros(3)
    if drop:
        tensors.pop(min(tensors))
    if double:
        tensors = {k: v.double() for k, v in tensors.items()}
    save_file(tensors, str(bundle / "weights.safetensors"))


ONNX_CASES = {"onnx with external data"}
IDS = [name for name, _, _ in HOSTILE]


def _hostile(name: str, bundle: Path, probe: Probe) -> str:
    mutate, message = next((m, msg) for n, m, msg in HOSTILE if n == name)
    mutate(bundle, probe)
    return message


def _cli(args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run `lepton ARGS` in this process; (exit code, stderr)."""
    from lepton_core.cli import main

    monkeypatch.setattr(sys, "argv", ["lepton", *args])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


@pytest.mark.parametrize("name", IDS)
def test_hostile_bundle_is_refused_by_the_api(name: str, bundle: Path, probe: Probe) -> None:
    message = _hostile(name, bundle, probe)
    with pytest.raises(BundleError, match=message) as error:
        loaded = load_bundle(bundle, trusted_keys=())
        if name in ONNX_CASES:
            from lepton_core.deploy.onnx import attach_runtime

            attach_runtime(loaded.path, loaded.manifest, loaded.predictor, "auto")
    assert "\n" not in str(error.value)
    assert not probe.ran(), "code named by the bundle ran"


@pytest.mark.parametrize("command", ["predict", "serve", "export"])
@pytest.mark.parametrize("name", IDS)
def test_hostile_bundle_is_refused_by_the_cli(
    name: str, command: str, bundle: Path, probe: Probe, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    if command == "export" and name in ONNX_CASES:
        pytest.skip("export writes a new model.onnx; it never runs the bundle's")
    from lepton_core.serve import server

    def loaded_anyway(*_: object) -> None:
        raise AssertionError("the hostile bundle loaded")

    monkeypatch.setattr(server, "create_app", loaded_anyway)  # serve binds its port first, then loads
    message = _hostile(name, bundle, probe)
    (tmp_path / "in.jsonl").write_text('{"x1": 0.1, "x2": 0.2}\n')
    args = {
        "predict": ["predict", str(bundle), str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out.jsonl"), "--no-progress"],
        "serve": ["serve", str(bundle), "--port", "0"],
        "export": ["export", str(bundle)],
    }[command]
    code, err = _cli(args, monkeypatch, capsys)
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert code == BundleError.exit_code, err
    assert len(errors) == 1 and __import__("re").search(message, errors[0]), err
    assert "Traceback" not in err
    assert not probe.ran(), "code named by the bundle ran"
    assert not (tmp_path / "out.jsonl").exists()


def test_environment_values_never_reach_predictions(bundle: Path, probe: Probe) -> None:
    """`${oc.env:...}` is refused, so a host secret cannot come back in /info or predictions."""
    _edit_config(lambda cfg, p: cfg["task"].update(leak="${oc.env:LEPTON_PROBE_SECRET}"))(bundle, probe)
    with pytest.raises(BundleError, match="interpolation"):
        load_bundle(bundle, trusted_keys=())


def test_bundles_are_written_resolved_and_naming_no_code(example_run: Path) -> None:
    text = (example_run / "bundle" / "config.yaml").read_text()
    assert "${" not in text and "_target_" not in text
    manifest = json.loads((example_run / "bundle" / "lepton.json").read_text())
    assert manifest["model_kwargs"] == {"n_features": 2, "hidden": 32, "lr": 0.02, "dropout": 0.0}


def test_zeroed_weights_load_without_a_key_so_signing_is_what_stops_them(bundle: Path) -> None:
    import torch
    from safetensors.torch import load_file, save_file

    tensors = {k: torch.zeros_like(v) for k, v in load_file(str(bundle / "weights.safetensors")).items()}
    save_file(tensors, str(bundle / "weights.safetensors"))
    rehash(bundle)
    assert load_bundle(bundle, trusted_keys=()).predictor.module is not None  # hashes alone prove nothing


# ---------------------------------------------------------------------------- signing


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    """A fresh key pair (private, public)."""
    return generate_keypair(tmp_path / "keys")


def test_keygen_modes_and_no_overwrite(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        private, public = generate_keypair(tmp_path / "k")
    finally:
        os.umask(old)
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE(public.stat().st_mode) == 0o644
    with pytest.raises(Exception, match="already exists"):
        generate_keypair(tmp_path / "k")


def test_signed_bundle_loads_with_its_key(bundle: Path, keys: tuple[Path, Path]) -> None:
    private, public = keys
    sign_bundle(bundle, private)
    loaded = load_bundle(bundle, trusted_keys=[public])
    assert loaded.signed_by and len(loaded.signed_by) == 16
    assert verify_bundle(bundle, trusted_keys=[public.read_bytes()])["task"] == "classify"


def test_unsigned_bundle_is_refused_with_a_trusted_key(bundle: Path, keys: tuple[Path, Path]) -> None:
    with pytest.raises(BundleError, match="not signed"):
        load_bundle(bundle, trusted_keys=[keys[1]])


def test_bundle_signed_by_another_key_is_refused(bundle: Path, keys: tuple[Path, Path], tmp_path: Path) -> None:
    other_private, _ = generate_keypair(tmp_path / "other")
    sign_bundle(bundle, other_private)
    with pytest.raises(BundleError, match="not trusted"):
        load_bundle(bundle, trusted_keys=[keys[1]])


@pytest.mark.parametrize("change", ["zeroed weights", "config", "manifest only"])
def test_changed_after_signing_is_refused(bundle: Path, keys: tuple[Path, Path], change: str) -> None:
    import torch
    from safetensors.torch import load_file, save_file

    sign_bundle(bundle, keys[0])
    if change == "zeroed weights":
        tensors = {k: torch.zeros_like(v) for k, v in load_file(str(bundle / "weights.safetensors")).items()}
        save_file(tensors, str(bundle / "weights.safetensors"))
    elif change == "config":
        with (bundle / "config.yaml").open("a") as handle:
            handle.write("extra: 1\n")
    else:
        manifest = json.loads((bundle / "lepton.json").read_text())
        manifest["input_example"] = []
        (bundle / "lepton.json").write_text(json.dumps(manifest))
    rehash(bundle)
    with pytest.raises(BundleError, match="changed after signing"):
        load_bundle(bundle, trusted_keys=[keys[1]])


def test_signing_twice_keeps_the_latest(bundle: Path, keys: tuple[Path, Path], tmp_path: Path) -> None:
    second_private, second_public = generate_keypair(tmp_path / "second")
    sign_bundle(bundle, keys[0])
    sign_bundle(bundle, second_private)
    assert load_bundle(bundle, trusted_keys=[second_public]).signed_by
    with pytest.raises(BundleError, match="not trusted"):
        load_bundle(bundle, trusted_keys=[keys[1]])


def test_trusted_keys_from_the_environment(bundle: Path, keys: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TRUSTED_KEYS_ENV, str(keys[1]))
    with pytest.raises(BundleError, match="not signed"):
        load_bundle(bundle)
    sign_bundle(bundle, keys[0])
    assert load_bundle(bundle).signed_by


def test_a_bad_trusted_key_is_a_config_error(bundle: Path, tmp_path: Path) -> None:
    from lepton_core.errors import ConfigError

    (tmp_path / "bad.pub").write_text("not a key")
    with pytest.raises(ConfigError, match="not a PEM public key"):
        load_bundle(bundle, trusted_keys=[tmp_path / "bad.pub"])


def test_adding_a_file_drops_the_stale_signature(bundle: Path, keys: tuple[Path, Path], tmp_path: Path) -> None:
    from lepton_core.bundle import add_bundle_file

    sign_bundle(bundle, keys[0])
    (tmp_path / "notes.txt").write_text("hello")
    add_bundle_file(bundle, "notes.txt", tmp_path / "notes.txt")
    assert not (bundle / SIGNATURE_NAME).exists()
    sign_bundle(bundle, keys[0])
    assert load_bundle(bundle, trusted_keys=[keys[1]]).signed_by


def test_cli_keygen_sign_and_trusted_key(
    bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(TRUSTED_KEYS_ENV, raising=False)
    (tmp_path / "in.jsonl").write_text('{"x1": 0.1, "x2": 0.2}\n')
    predict = ["predict", str(bundle), str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out.jsonl"), "--no-progress"]
    assert _cli(["keygen", "-o", str(tmp_path / "k")], monkeypatch, capsys)[0] == 0
    public = str(tmp_path / "k" / "lepton-signing.pub")
    code, err = _cli([*predict, "--trusted-key", public], monkeypatch, capsys)
    assert code == BundleError.exit_code and "not signed" in err
    assert _cli(["sign", str(bundle), "--key", str(tmp_path / "k" / "lepton-signing.key")], monkeypatch, capsys)[0] == 0
    assert _cli([*predict, "--trusted-key", public], monkeypatch, capsys)[0] == 0
    assert (tmp_path / "out.jsonl").is_file()


def test_help_imports_neither_cryptography_nor_torch() -> None:
    code = (
        "import sys\nsys.argv = ['lepton', '--help']\nimport lepton_core.cli as cli\n"
        "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('torch', 'cryptography') if m in sys.modules), file=sys.stderr)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert proc.stderr.strip().splitlines()[-1] == "[]", proc.stderr


# ---------------------------------------------------------------------------- permissions


def _modes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): stat.S_IMODE(p.lstat().st_mode) for p in [root, *root.rglob("*")]}


def test_run_and_bundle_files_are_readable_by_others(example_run: Path) -> None:
    umask = current_umask()
    wrong = {
        name: oct(mode)
        for name, mode in _modes(example_run).items()
        if mode != ((0o777 if (example_run / name).is_dir() else 0o666) & ~umask)
    }
    assert not wrong, f"modes that ignore the umask {oct(umask)}: {wrong}"


def test_atomic_writes_respect_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
        with atomic_path(tmp_path / "b.bin") as staged:
            staged.write_bytes(b"x")
        staged_dir = staging_dir(tmp_path / "target")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "b.bin").stat().st_mode) == 0o640
    assert stat.S_IMODE(staged_dir.stat().st_mode) == 0o750
