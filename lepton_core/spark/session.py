"""A SparkSession for Lepton's Spark jobs: Java checked first, a bad master URL or a failed start as one line."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lepton_core.errors import ConfigError, LeptonError, ServeError

__all__ = [
    "SPARK_INSTALL_FIX",
    "find_java",
    "get_session",
    "java_major_version",
    "lepton_error_from",
    "session_for",
]

SPARK_INSTALL_FIX = "install it with `pip install lepton-core[spark]`"
JAVA_FIX = "install a Java 17+ runtime (e.g. `apt install openjdk-17-jre-headless`) or set JAVA_HOME to one"
MIN_JAVA = 17
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
_MASTER = re.compile(
    r"^(local(\[(\*|\d+)(,\d+)?\])?|local-cluster\[\d+, *\d+, *\d+\]|(spark|k8s|mesos)://.+|yarn)$"
)


def find_java() -> Path | None:
    """The java executable Spark will start: $JAVA_HOME/bin/java, else the first java on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home:
        candidate = Path(home) / "bin" / "java"
        return candidate if candidate.is_file() and os.access(candidate, os.X_OK) else None
    found = shutil.which("java")
    return Path(found) if found else None


def java_major_version(java: Path) -> int | None:
    """The major version `java -version` reports (8 for 1.8), None when it cannot be read."""
    try:
        proc = subprocess.run(
            [str(java), "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', proc.stderr + proc.stdout)
    if match is None:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def _check_java() -> None:
    java = find_java()
    if java is None:
        where = "JAVA_HOME/bin/java" if os.environ.get("JAVA_HOME") else "java on PATH"
        raise ServeError(f"Spark needs Java and there is no {where}", JAVA_FIX)
    version = java_major_version(java)
    if version is not None and version < MIN_JAVA:
        raise ServeError(f"Spark 4 needs Java {MIN_JAVA}+, {java} is Java {version}", JAVA_FIX)


def _check_master(master: str) -> None:
    if not _MASTER.match(master):
        raise ConfigError(
            f"'{master}' is not a Spark master URL",
            "pass local[N], spark://HOST:PORT, yarn or k8s://https://HOST:PORT",
        )


def get_session(
    master: str | None = None,
    app_name: str = "lepton",
    conf: dict[str, Any] | None = None,
    default_master: str = "local[*]",
) -> Any:
    """The active SparkSession, or a new one on ``master`` (None: spark-submit's, else ``default_master``)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ServeError(
            "the Spark engine needs pyspark, which is not installed", SPARK_INSTALL_FIX
        ) from None
    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    if master is not None:
        _check_master(master)
    _check_java()
    builder = SparkSession.builder.appName(app_name)
    if master is not None:
        builder = builder.master(master)
    elif "spark.master" not in os.environ.get("PYSPARK_SUBMIT_ARGS", ""):
        builder = builder.master(os.environ.get("MASTER", default_master))
    if (master or default_master).startswith("local") and not os.environ.get("PYSPARK_PYTHON"):
        os.environ["PYSPARK_PYTHON"] = sys.executable  # local workers run this interpreter (not `python3`)
    settings = {
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        # split files of a few MB between the cores too (Spark's 4 MB default keeps them in one task)
        "spark.sql.files.openCostInBytes": str(1 << 20),
    }
    for key, value in {**settings, **(conf or {})}.items():
        builder = builder.config(key, str(value))
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # noqa: BLE001 - py4j/JVM start failures come in many types
        raise ServeError(
            f"cannot start Spark on {master or 'the default master'}: {_first_line(exc)}", JAVA_FIX
        ) from None
    session.sparkContext.setLogLevel("ERROR")
    return session


@contextmanager
def session_for(master: str | None = None, app_name: str = "lepton") -> Iterator[Any]:
    """``get_session(master)`` for one piece of work: a session it had to start is stopped afterwards."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        active = None
    else:
        active = SparkSession.getActiveSession()
    session = get_session(master, app_name)
    try:
        yield session
    finally:
        if session is not active:
            session.stop()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


_RAISED = re.compile(r"lepton_core\.errors\.(\w+Error): (.+)")


def lepton_error_from(exc: BaseException) -> LeptonError | None:
    """The LeptonError a Python worker raised, rebuilt from Spark's wrapped exception text; None if none."""
    from lepton_core import errors

    for line in reversed(str(exc).splitlines()):
        match = _RAISED.search(line)
        if match and isinstance(getattr(errors, match.group(1), None), type):
            error_type = getattr(errors, match.group(1))
            problem, _, fix = match.group(2).partition(". Fix: ")
            return error_type(problem, fix or None)
    return None
