"""Monitoring of served models: crash-safe prediction and label logs, windowed drift and live metrics, rules.

Domain-free: what is monitored comes from the bundle (drift reference, schemas, test metrics). `lepton serve`
feeds :class:`LiveMonitor`; `lepton monitor` reads the log with :func:`monitor_log`.
"""

from lepton_core.monitoring.live import LiveMonitor, MonitorOptions
from lepton_core.monitoring.log import LogSettings, SegmentLog, read_log
from lepton_core.monitoring.profile import MonitorProfile, load_profile
from lepton_core.monitoring.rules import RuleSet, evaluate_rules, load_rules, parse_rules
from lepton_core.monitoring.windows import WindowSpec, analyze

__all__ = [
    "LiveMonitor", "LogSettings", "MonitorOptions", "MonitorProfile", "RuleSet", "SegmentLog", "WindowSpec", "analyze",
    "evaluate_rules", "load_profile", "load_rules", "parse_rules", "read_log",
]
