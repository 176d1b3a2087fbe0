"""User-facing errors: each names the problem and the fix in one line, and maps to an exit code."""

from __future__ import annotations

__all__ = [
    "EXIT_CODES",
    "BundleError",
    "ConfigError",
    "DataError",
    "LeptonError",
    "MonitorAlert",
    "PluginError",
    "ServeError",
]


class LeptonError(Exception):
    """Base of every error Lepton reports to a user without a traceback."""

    exit_code: int = 1

    def __init__(self, problem: str, fix: str | None = None) -> None:
        self.problem = problem.rstrip(".")
        self.fix = fix.rstrip(".") if fix else None
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.problem}. Fix: {self.fix}." if self.fix else f"{self.problem}."


class ConfigError(LeptonError):
    """An unknown plugin, task or config key, or an invalid value in the composed config."""

    exit_code = 2


class DataError(LeptonError):
    """Input data that cannot be used as given: missing, empty, malformed or unsuitable for the task."""

    exit_code = 3


class BundleError(LeptonError):
    """A bundle that is missing, incomplete, tampered with or built by an incompatible plugin."""

    exit_code = 4


class PluginError(LeptonError):
    """A plugin that failed to load or broke the contract."""

    exit_code = 5


class ServeError(LeptonError):
    """A deployment that cannot start (port in use, runtime missing) or an export refused by its parity gate."""

    exit_code = 6


class MonitorAlert(LeptonError):
    """`lepton monitor`: a monitoring rule fired (not a failure of Lepton: a signal for cron or CI)."""

    exit_code = 7


EXIT_CODES: dict[str, int] = {
    "success": 0,
    "unexpected error": 1,
    "config or usage error": ConfigError.exit_code,
    "data error": DataError.exit_code,
    "bundle error": BundleError.exit_code,
    "plugin error": PluginError.exit_code,
    "serve or export error": ServeError.exit_code,
    "monitoring rule fired": MonitorAlert.exit_code,
}
