"""The `lepton` command line. Thin: each command imports what it needs (no torch for --help or plugins)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from lepton_core.errors import LeptonError

app = typer.Typer(
    name="lepton",
    help="Industry AI templates: from your data to an evaluated, explained, served model in one command.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}


def _version(value: bool) -> None:
    if value:
        from lepton_core import __version__

        typer.echo(f"lepton-core {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    trace: Annotated[bool, typer.Option("--trace", help="Print every hook call of the command to stderr.")] = False,
) -> None:
    if trace:
        _trace_hooks()
    if debug:
        os.environ["LEPTON_DEBUG"] = "1"
        os.environ["HYDRA_FULL_ERROR"] = "1"


def _hydra(args: list[str]) -> None:
    """Hand ``args`` to the real @hydra.main entry, as if typed on its command line."""
    from lepton_core.config.arguments import translate_run_args
    from lepton_core.hooks.manager import get_plugin_manager

    hydra_args = translate_run_args(list(args), get_plugin_manager())
    from lepton_core.config.entry import main as hydra_main

    argv = sys.argv
    # argv[0] stays the real script: Lightning's DDP launcher re-runs it for the other ranks (see main()).
    sys.argv = [argv[0] if os.path.isfile(argv[0]) else "lepton", *hydra_args]
    os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra raises instead of printing: main() turns it into one line
    try:
        hydra_main()
    except OSError as exc:  # Hydra creating the run directory (read-only, full)
        from lepton_core.atomic import os_error

        error = os_error(exc, "set LEPTON_OUTPUT_DIR (or paths.output_dir) to a writable directory with free space")
        if error is None:
            raise
        raise error from None
    finally:
        sys.argv = argv


def _is_ddp_rank_relaunch(args: list[str]) -> bool:
    """True when Lightning's DDP launcher re-ran the Hydra command line of rank 0 for another local rank."""
    return bool(args) and "=" in args[0] and any(a.startswith("hydra.job.name=train_ddp_process_") for a in args)


def _trace_hooks() -> None:
    """Print each hook call (plugins, arguments, result, time) to stderr: `lepton --trace ...` / `lepton run --trace`."""
    from lepton_core.hooks.manager import get_plugin_manager
    from lepton_core.hooks.tracing import trace_hook_calls

    trace_hook_calls(get_plugin_manager())


@app.command(context_settings=PASS_THROUGH)
def run(
    ctx: typer.Context,
    trace: Annotated[bool, typer.Option("--trace", help="Print every hook call of the run to stderr.")] = False,
) -> None:
    r"""Run a task: load data, fit baselines, train, evaluate, report, bundle.

    Arguments are Hydra's: plugin=NAME \[task=TASK] \[key=value ...], -m for sweeps, --cfg job, --info,
    resume=true. Example: lepton run plugin=finance task=fraud_detection trainer.max_epochs=5
    """
    if trace:
        _trace_hooks()
    _hydra(ctx.args)


@app.command(context_settings=PASS_THROUGH)
def config(
    ctx: typer.Context,
    resolve: Annotated[bool, typer.Option("--resolve", help="Resolve interpolations.")] = False,
) -> None:
    r"""Print the composed config of plugin=NAME \[task=TASK] \[overrides] without running anything."""
    _hydra([*ctx.args, "--cfg", "job", *(["--resolve"] if resolve else [])])


def _print_lines(console: object, lines: list[str]) -> None:
    """Print paths and commands whole: rich never breaks them (soft_wrap), the terminal wraps long lines."""
    for line in lines:
        console.print(line, soft_wrap=True, markup=False, highlight=False)  # type: ignore[attr-defined]


@app.command()
def plugins() -> None:
    """List installed plugins: name, distribution and version, tasks, where it loads from, and any error."""
    from rich.console import Console
    from rich.table import Table

    from lepton_core.hooks.manager import get_plugin_manager

    manager = get_plugin_manager()
    console = Console()
    if not manager.records:
        console.print("No plugin installed. Install one: pip install -e plugins/finance")
        return
    table = Table(title="Lepton plugins", title_justify="left")
    for column in ("plugin", "version", "status", "tasks"):
        table.add_column(column, no_wrap=True)
    details = []
    for name, record in sorted(manager.records.items()):
        tasks = "\n".join(
            f"{t}{' (default)' if t == record.info.default_task else ''}" for t in record.info.task_names()
        ) if record.info else "-"
        if record.info is not None and record.info.lifecycle_only:
            tasks = "none (lifecycle plugin)"
        status = {"ok": "[green]ok[/]", "disabled": "[dim]disabled[/]"}.get(record.status, "[red]error[/]")
        table.add_row(name, record.dist_version, status, tasks)
        details.append(f"{name}: {record.distribution} from {record.location}")
        if record.status not in ("ok", "disabled"):
            details.append(f"{name} failed to load: {record.error}")
    console.print(table)
    _print_lines(console, details)


@app.command()
def tasks(plugin: Annotated[str | None, typer.Argument(help="Only this plugin's tasks.")] = None) -> None:
    """List the tasks of every installed plugin (or of one), with a one-line summary each."""
    from rich.console import Console
    from rich.table import Table

    from lepton_core.hooks.manager import get_plugin_manager

    manager = get_plugin_manager()
    loaded = manager.loaded()
    if plugin is not None:
        manager.resolve(plugin)
        loaded = {plugin: loaded[plugin]}
    table = Table(title="Lepton tasks", title_justify="left")
    table.add_column("plugin", no_wrap=True)
    table.add_column("task", no_wrap=True)
    table.add_column("summary", ratio=1)
    commands = ["* the plugin's default task", "run one:"]
    for name, info in loaded.items():
        for task in info.tasks:
            default = " *" if task.name == info.default_task else ""
            table.add_row(name, task.name + default, task.summary)
            commands.append(f"  lepton run plugin={name} task={task.name}")
    console = Console()
    console.print(table)
    _print_lines(console, commands)


new_app = typer.Typer(help="Create a new project from a template.", no_args_is_help=True)
app.add_typer(new_app, name="new")


@new_app.command("plugin")
def new_plugin(
    name: Annotated[str, typer.Argument(help="Plugin name: a lowercase identifier, e.g. churn_model.")],
    task: Annotated[str, typer.Option("--task", help="Name of the plugin's first task.")] = "classify",
    directory: Annotated[
        Path, typer.Option("--dir", help="Where to create the NAME/ directory.", file_okay=False)
    ] = Path("."),
) -> None:
    """Scaffold a pip-installable plugin: pyproject with entry point, hooks, configs, demo data, contract tests."""
    from lepton_core.scaffolding import create_plugin

    target = create_plugin(name, task, directory)
    typer.echo(f"created {target}")
    typer.echo(f"next: pip install -e {target} && lepton plugins && lepton run plugin={name}")


data_app = typer.Typer(help="Work with a task's data.", no_args_is_help=True)
app.add_typer(data_app, name="data")


@data_app.command("export", context_settings=PASS_THROUGH)
def data_export(
    ctx: typer.Context,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="File (.csv, .parquet) or folder (image tasks) to write.")
    ],
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file or folder.")] = False,
) -> None:
    r"""Write a task's demo data in the format its loader reads: plugin=NAME \[task=TASK] \[data.key=value ...]."""
    from lepton_core.pipeline.demo_export import export_demo_data

    written, command = export_demo_data(ctx.args, output, force=force)
    typer.echo(f"wrote {written}; train on it with:")
    typer.echo(command)


TrustedKeys = Annotated[
    list[str] | None,
    typer.Option(
        "--trusted-key",
        help="Public key (from `lepton keygen`) that must have signed the bundle; repeatable. "
        "Also read from LEPTON_TRUSTED_KEYS (files separated by ':').",
    ),
]


def _trusted_keys(keys: list[str] | None) -> list[str]:
    """The --trusted-key files plus those of LEPTON_TRUSTED_KEYS (empty: no signature required)."""
    from lepton_core.bundle.signing import trusted_keys_from_env

    return [*(keys or []), *trusted_keys_from_env()]


@app.command()
def keygen(
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for the key pair.", file_okay=False)] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Replace an existing key pair.")] = False,
) -> None:
    """Create an ed25519 key pair to sign bundles: lepton-signing.key (private, 0600) and lepton-signing.pub (0644)."""
    from lepton_core.bundle.signing import generate_keypair

    private, public = generate_keypair(out, force=force)
    typer.echo(f"wrote {private} (private: keep it secret) and {public} (public: give it to --trusted-key)")


@app.command()
def sign(
    bundle: Annotated[str, typer.Argument(help="The bundle/ directory to sign.")],
    key: Annotated[str, typer.Option("--key", help="Private key written by `lepton keygen`.")],
) -> None:
    """Sign a bundle (its manifest, which hashes every file) with a private key; replaces an older signature."""
    from lepton_core.bundle.signing import sign_bundle

    path = sign_bundle(bundle, key)
    typer.echo(f"signed {bundle}: wrote {path}")


@app.command()
def predict(
    bundle: Annotated[str, typer.Argument(help="The bundle/ directory of a run.")],
    input_path: Annotated[
        str, typer.Argument(metavar="INPUT", help="CSV/Parquet file (table bundles), image folder (image), JSON lines (json).")
    ],
    output: Annotated[str, typer.Option("--output", "-o", help="Where to write predictions: .csv, .parquet or .jsonl.")],
    chunk_size: Annotated[int, typer.Option("--chunk-size", help="Items per model call.")] = 1024,
    runtime: Annotated[str, typer.Option("--runtime", help="auto (ONNX when parity-checked), torch or onnx.")] = "auto",
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
    engine: Annotated[
        str, typer.Option("--engine", help="local (this process) or spark (mapInPandas; INPUT may be a table, OUTPUT a Parquet folder).")
    ] = "local",
    master: Annotated[
        str | None, typer.Option("--master", help="Spark master URL for --engine spark (default: spark-submit's, else local[*]).")
    ] = None,
    partitions: Annotated[
        int | None, typer.Option("--partitions", help="--engine spark: repartition the input first (row order is lost).")
    ] = None,
    trusted_key: TrustedKeys = None,
) -> None:
    """Predict a file or folder of inputs with a bundle, in chunks, through the server's predictor code."""
    if engine not in ("local", "spark"):
        from lepton_core.errors import ConfigError

        raise ConfigError(f"unknown engine '{engine}'", "pass --engine local or --engine spark")
    if engine == "spark":
        from lepton_core.bundle.signing import load_trusted_keys
        from lepton_core.spark.predict import predict_spark

        keys = _trusted_keys(trusted_key)
        load_trusted_keys(keys)  # a bad key fails here, in one line, before Spark starts
        pem = [Path(key).read_text("ascii") for key in keys]  # executors need the keys, not the driver's files
        result = predict_spark(
            bundle, input_path, output, master=master, chunk_size=chunk_size, runtime=runtime, partitions=partitions,
            load_options={"trusted_keys": pem},
        )
        typer.echo(
            f"wrote {result.rows} predictions to {result.output} ({result.partitions} partition(s), bundle loaded "
            f"{result.bundle_loads} time(s) on the executors) in {result.seconds:.1f} s (runtime {result.runtime})"
        )
        return
    from lepton_core.deploy.batch import predict_file

    summary = predict_file(
        bundle, input_path, output, chunk_size=chunk_size, runtime=runtime, progress=progress,
        trusted_keys=_trusted_keys(trusted_key),
    )
    typer.echo(f"wrote {summary.rows} predictions to {summary.output} in {summary.seconds:.1f} s (runtime {summary.runtime})")


@app.command()
def serve(
    bundle: Annotated[str, typer.Argument(help="The bundle/ directory of a run.")],
    host: Annotated[str, typer.Option("--host", help="Interface to listen on (0.0.0.0 for all).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port (0: any free port).")] = 8000,
    runtime: Annotated[str, typer.Option("--runtime", help="auto (ONNX when parity-checked), torch or onnx.")] = "auto",
    max_body_bytes: Annotated[int, typer.Option("--max-body-bytes", help="Larger request bodies get 413.")] = 1 << 20,
    max_batch_size: Annotated[int, typer.Option("--max-batch-size", help="Most items per model call.")] = 64,
    max_queue: Annotated[int, typer.Option("--max-queue", help="Items waiting before 503 + Retry-After.")] = 1024,
    torch_threads: Annotated[int, typer.Option("--torch-threads", help="torch intra-op threads (0: half the cores).")] = 0,
    log_level: Annotated[str, typer.Option("--log-level", help="critical, error, warning, info, debug or trace.")] = "info",
    max_connections: Annotated[
        int, typer.Option("--max-connections", help="Open connections at most; then the longest-idle one is closed.")
    ] = 1000,
    header_timeout: Annotated[
        float, typer.Option("--header-timeout", help="Seconds a connection has to send a request's headers.")
    ] = 10.0,
    body_timeout: Annotated[
        float, typer.Option("--body-timeout", help="Seconds a request has to send its body after its headers.")
    ] = 30.0,
    keep_alive_timeout: Annotated[
        float, typer.Option("--keep-alive-timeout", help="Seconds an idle keep-alive connection stays open.")
    ] = 5.0,
    max_header_bytes: Annotated[
        int, typer.Option("--max-header-bytes", help="Larger request lines + headers get 431.")
    ] = 64 << 10,
    max_image_pixels: Annotated[
        int, typer.Option("--max-image-pixels", help="Images with more pixels (H x W x frames) get 413.")
    ] = 50_000_000,
    api_key_file: Annotated[
        str | None, typer.Option("--api-key-file", help="File holding the API key clients send as Bearer token (or set LEPTON_API_KEY).")
    ] = None,
    allowed_host: Annotated[
        list[str] | None, typer.Option("--allowed-host", help="Host header to answer (repeatable; *.example.com allowed).")
    ] = None,
    log_dir: Annotated[
        Path | None, typer.Option("--log-dir", help="Log every answered prediction and label here (crash-safe, Parquet).", file_okay=False)
    ] = None,
    no_log: Annotated[bool, typer.Option("--no-log", help="Keep no prediction, on disk or in memory (no /feedback, no live drift).")] = False,
    log_max_mb: Annotated[float, typer.Option("--log-max-mb", help="Rotate the active log segment past this size.")] = 64.0,
    log_max_age: Annotated[float, typer.Option("--log-max-age", help="Rotate the active log segment after this many seconds.")] = 3600.0,
    window_size: Annotated[int, typer.Option("--window-size", help="Predictions per monitoring window.")] = 200,
    min_samples: Annotated[
        int, typer.Option("--min-samples", help="Values a window needs before a drift or live-metric figure is shown.")
    ] = 100,
    trusted_key: TrustedKeys = None,
) -> None:
    """Serve a bundle over HTTP: POST /predict /feedback, GET /livez /readyz /info /metrics /dashboard /docs."""
    from lepton_core.monitoring import LogSettings, MonitorOptions, WindowSpec
    from lepton_core.serve import AccessControl, ServeSettings, serve_bundle
    from lepton_core.serve.server import read_api_key

    if no_log and log_dir is not None:
        from lepton_core.errors import ConfigError

        raise ConfigError("--no-log and --log-dir contradict each other", "pass one of them")
    log = LogSettings(log_dir, int(log_max_mb * (1 << 20)), log_max_age) if log_dir is not None else None
    monitoring = MonitorOptions(not no_log, log, WindowSpec(window_size, min_samples))

    settings = ServeSettings(
        max_body_bytes=max_body_bytes,
        max_batch_size=max_batch_size,
        max_queue_items=max_queue,
        torch_threads=torch_threads,
        max_connections=max_connections,
        header_timeout_s=header_timeout,
        body_timeout_s=body_timeout,
        keep_alive_s=keep_alive_timeout,
        max_header_bytes=max_header_bytes,
        max_image_pixels=max_image_pixels,
    )
    access = AccessControl(read_api_key(api_key_file), tuple(allowed_host or ()))
    serve_bundle(
        bundle, host=host, port=port, runtime=runtime, settings=settings, log_level=log_level, access=access,
        trusted_keys=_trusted_keys(trusted_key), monitoring=monitoring,
    )


@app.command()
def monitor(
    bundle: Annotated[str, typer.Argument(help="The bundle/ directory that served the predictions.")],
    log: Annotated[Path, typer.Option("--log", help="The --log-dir of `lepton serve`.")],
    rules: Annotated[
        Path | None, typer.Option("--rules", help="Rules YAML (default: input and prediction drift, PSI > 0.25 for 3 windows).")
    ] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="The HTML report to write.")] = Path("monitor.html"),
    export: Annotated[
        Path | None, typer.Option("--export", help="Labelled data for retraining (.parquet or .csv; default beside the report).")
    ] = None,
    trusted_key: TrustedKeys = None,
) -> None:
    """Monitoring report of a prediction log: drift, volume, latency, live metrics; exit 7 when a rule fires."""
    from lepton_core.errors import MonitorAlert
    from lepton_core.monitoring.report import monitor_log

    result = monitor_log(bundle, log, rules, output, export, trusted_keys=_trusted_keys(trusted_key))
    typer.echo(
        f"{result.n_predictions} predictions ({result.n_labelled} labelled) of model {result.profile.model_version} "
        f"in {len(result.windows)} window(s); report: {result.report}"
    )
    for rule in result.rules:
        window = result.windows[rule["fired_at"] - result.windows[0]["index"]] if rule["fired_at"] is not None else None
        status = f"FIRED at window {rule['fired_at']} (predictions up to {_utc(window['end'])})" if window else "ok"
        typer.echo(f"  rule '{rule['name']}' ({rule['when']}, for {rule['for']} window(s)): {status}")
    if result.export is not None:
        typer.echo(f"labelled data: {result.export}")
    typer.echo(f"retrain: {result.retrain}")
    if result.fired:
        names = ", ".join(f"'{r['name']}' (window {r['fired_at']})" for r in result.fired)
        raise MonitorAlert(f"{len(result.fired)} monitoring rule(s) fired: {names}", f"retrain with: {result.retrain}")


def _utc(stamp: float | None) -> str:
    """A log time as an ISO UTC timestamp."""
    from datetime import UTC, datetime

    return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds") if stamp is not None else "?"


@app.command()
def export(
    bundle: Annotated[str, typer.Argument(help="The bundle/ directory of a run.")],
    format: Annotated[str, typer.Option("--format", help="Export format (onnx).")] = "onnx",
    examples: Annotated[
        str | None, typer.Option("--examples", help="More held-out inputs for the parity check (a predict INPUT).")
    ] = None,
    tolerance: Annotated[float, typer.Option("--tolerance", help="Largest output difference accepted.")] = 1e-4,
    trusted_key: TrustedKeys = None,
) -> None:
    """Export a bundle's model (ONNX, dynamic batch) and add it to the bundle if it matches torch on held-out inputs."""
    from lepton_core.bundle.signing import SIGNATURE_NAME
    from lepton_core.deploy.export import export_bundle

    signed = (Path(bundle) / SIGNATURE_NAME).is_file()
    result = export_bundle(bundle, format, examples, tolerance, trusted_keys=_trusted_keys(trusted_key))
    typer.echo(
        f"added {result.path.name} to {result.path.parent} ({result.exporter}); parity on {result.n_examples} "
        f"held-out example(s): max |torch - onnx| = {result.max_abs_diff:.2g} <= {result.tolerance:g}"
    )
    if signed:
        typer.echo("the bundle changed, so its signature was removed: sign it again with `lepton sign BUNDLE --key KEY`")


def _hydra_config_error(exc: Exception) -> LeptonError | None:
    """A Hydra composition or instantiation error as a one-line LeptonError; None for other exceptions."""
    errors = sys.modules.get("hydra.errors")
    if errors is None or not isinstance(exc, errors.HydraException):
        return None
    if isinstance(exc.__cause__, LeptonError):  # raised by a constructor that Hydra instantiated
        return exc.__cause__
    from lepton_core.errors import ConfigError

    unknown_key = _unknown_key_error(exc)
    if unknown_key is not None:
        return unknown_key
    text = str(exc).split("Config search path:")[0]
    if "Available options in" in text:
        head, options = text.split("Available options in", 1)
        group, _, names = options.partition(":")
        text = f"{head} (available in{group}: {', '.join(names.split())})"
    cause = exc.__cause__
    if cause is not None and type(cause).__module__.startswith("omegaconf") and str(cause).strip():
        text += f" ({str(cause).splitlines()[0]})"
    problem = " ".join(line.strip() for line in text.splitlines() if line.strip())
    if getattr(exc, "override", None):
        problem = f"cannot parse the override '{exc.override}': {problem}"
    return ConfigError(problem, "check the overrides; `lepton config plugin=NAME` prints the composed config")


def _unknown_key_error(exc: Exception) -> LeptonError | None:
    """Hydra's "Could not override 'model.hiden'" as "unknown config key model.hiden (did you mean model.hidden?)"."""
    import difflib
    import re

    found = re.match(r"Could not override '([^']+)'", str(exc))
    cause = exc.__cause__
    parent, missing = getattr(cause, "parent_node", None), getattr(cause, "key", None)
    if found is None or parent is None or not isinstance(missing, str) or "not in struct" not in str(cause):
        return None
    from lepton_core.errors import ConfigError

    key = found.group(1)
    siblings = [str(name) for name in parent if name != "hydra"]
    match = difflib.get_close_matches(missing, siblings, n=1, cutoff=0.6)
    hint = ""
    if match:
        at = str(getattr(cause, "full_key", missing))  # the path down to the missing part, e.g. "trainr"
        hint = f" (did you mean {at.removesuffix(missing)}{match[0]}{key.removeprefix(at)}?)"
    return ConfigError(
        f"unknown config key {key}{hint}",
        "fix the override (a new key needs a leading +); `lepton config plugin=NAME` prints every key",
    )


def main() -> None:
    """Console entry point: one-line errors with the documented exit codes, tracebacks only with --debug."""
    try:
        if _is_ddp_rank_relaunch(sys.argv[1:]):
            from lepton_core.config.entry import main as hydra_main

            hydra_main()
        else:
            app(standalone_mode=False)
    except LeptonError as exc:
        if os.environ.get("LEPTON_DEBUG"):
            raise
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except (typer.Exit, SystemExit) as exc:
        code = exc.exit_code if isinstance(exc, typer.Exit) else exc.code
        sys.exit(code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("LEPTON_DEBUG"):
            raise
        if hasattr(exc, "format_message") and isinstance(getattr(exc, "exit_code", None), int):  # click usage
            typer.echo(f"error: {exc.format_message()} (see `lepton --help`)", err=True)
            sys.exit(exc.exit_code)
        config_error = _hydra_config_error(exc)
        if config_error is None and isinstance(exc, OSError):  # an output that cannot be written (read-only, full)
            from lepton_core.atomic import os_error

            config_error = os_error(exc)
        if config_error is not None:
            typer.echo(f"error: {config_error}", err=True)
            sys.exit(config_error.exit_code)
        typer.echo(f"error: unexpected {type(exc).__name__}: {exc} (rerun with `lepton --debug ...` for the traceback)", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
