"""Prometheus text exposition of the server's metrics (a handful of counters, gauges and histograms).

Hand-written rather than prometheus_client: a few dozen lines, no process-global registry (tests build
many apps in one process), and the histograms are updated without locks from the one thread that owns each.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["Histogram", "ServerMetrics"]

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    escaped = (f'{k}="{str(v).replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"' for k, v in labels.items())
    return "{" + ",".join(escaped) + "}"


def _number(value: float) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


class Histogram:
    """Cumulative-bucket histogram; each instance is updated from one thread only."""

    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self.counts = [0] * (len(buckets) + 1)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        """Record one value."""
        self.counts[bisect_left(self.buckets, value)] += 1
        self.sum += value
        self.count += 1

    def lines(self, name: str, labels: Mapping[str, str]) -> list[str]:
        """Exposition lines: _bucket (cumulative, with +Inf), _sum, _count."""
        out, running = [], 0
        for bound, count in zip((*self.buckets, "+Inf"), self.counts, strict=True):
            running += count
            le = bound if isinstance(bound, str) else _number(float(bound))
            out.append(f"{name}_bucket{_labels({**labels, 'le': le})} {running}")
        out.append(f"{name}_sum{_labels(labels)} {_number(self.sum)}")
        out.append(f"{name}_count{_labels(labels)} {self.count}")
        return out


def _gauge(name: str, help_text: str, samples: list[tuple[Mapping[str, str], float | None]], kind: str = "gauge") -> list[str]:
    """A metric's HELP/TYPE lines and samples; None (not enough data yet) is exposed as NaN."""
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    return lines + [f"{name}{_labels(labels)} {'NaN' if value is None else _number(value)}" for labels, value in samples]


def monitoring_lines(snapshot: Mapping[str, Any]) -> list[str]:
    """Gauges of a LiveMonitor snapshot: the current window's drift and live metrics (NaN before min samples)."""
    current = snapshot.get("current") or {"features": {}, "live": {}}
    features = [(f, current["features"].get(f) or {}) for f in snapshot["features"]]
    live = current["live"]
    lines = _gauge("lepton_predictions_logged_total", "Predictions recorded by the monitor since start.",
                   [({}, snapshot["predictions_total"])], "counter")
    lines += _gauge("lepton_labels_total", "Labels received on /feedback that matched a recent prediction.",
                    [({}, snapshot["labels_total"])], "counter")
    lines += _gauge("lepton_monitor_window_predictions", "Predictions in the current (sliding) window.",
                    [({}, current.get("count", 0))])
    lines += _gauge("lepton_monitor_window_labels", "Labelled predictions in the current window.",
                    [({}, current.get("labelled", 0))])
    lines += _gauge("lepton_feature_drift_psi", "PSI of an input feature in the current window against its reference.",
                    [({"feature": f}, s.get("psi")) for f, s in features])
    lines += _gauge("lepton_feature_drift_ks", "Kolmogorov-Smirnov statistic of a numeric input feature in the current window.",
                    [({"feature": f}, s.get("ks")) for f, s in features if "chi2_p" not in s])
    lines += _gauge("lepton_prediction_drift_psi", "PSI of the predictions in the current window against the first window.",
                    [({}, current.get("prediction_psi"))])
    lines += _gauge("lepton_prediction_drift_ks", "Kolmogorov-Smirnov statistic of the predictions against the first window.",
                    [({}, current.get("prediction_ks"))])
    lines += _gauge("lepton_live_metric", "Metric on the labelled predictions of the current window.",
                    [({"metric": m}, live.get(m)) for m in snapshot["live_metrics"]])
    lines += _gauge("lepton_test_metric", "The bundle's test value of each live metric.",
                    [({"metric": m}, v) for m, v in snapshot["test_metrics"].items()])
    return lines


class ServerMetrics:
    """Requests by route and status, latencies, batch sizes, queue depth, inference time and monitoring gauges."""

    def __init__(self, queue_depth: Callable[[], int]) -> None:
        self.requests: dict[tuple[str, int], int] = {}
        self.latency: dict[str, Histogram] = {}
        self.batch_size = Histogram(BATCH_BUCKETS)
        self.inference = Histogram(LATENCY_BUCKETS)
        self.items = 0
        self.queue_depth = queue_depth
        self.ready = False

    def observe_request(self, route: str, status: int, seconds: float) -> None:
        """Count a finished request and its latency (event-loop thread)."""
        key = (route, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        histogram = self.latency.get(route)
        if histogram is None:
            histogram = self.latency[route] = Histogram(LATENCY_BUCKETS)
        histogram.observe(seconds)

    def observe_batch(self, size: int, seconds: float) -> None:
        """Count one model call: its number of items and its duration (batcher thread)."""
        self.batch_size.observe(size)
        self.inference.observe(seconds)
        self.items += size

    def render(self, monitoring: Mapping[str, Any] | None = None) -> str:
        """The Prometheus text format (version 0.0.4), with the gauges of a LiveMonitor snapshot when given."""
        lines = [
            "# HELP lepton_http_requests_total HTTP requests by route and status code.",
            "# TYPE lepton_http_requests_total counter",
        ]
        for (route, status), count in sorted(self.requests.items()):
            lines.append(f"lepton_http_requests_total{_labels({'route': route, 'status': str(status)})} {count}")
        lines += [
            "# HELP lepton_http_request_duration_seconds Time from request start to response end, by route.",
            "# TYPE lepton_http_request_duration_seconds histogram",
        ]
        for route, histogram in sorted(self.latency.items()):
            lines += histogram.lines("lepton_http_request_duration_seconds", {"route": route})
        lines += ["# HELP lepton_batch_size Items per model call.", "# TYPE lepton_batch_size histogram"]
        lines += self.batch_size.lines("lepton_batch_size", {})
        lines += [
            "# HELP lepton_inference_duration_seconds Time of one model call (preprocess, model, postprocess).",
            "# TYPE lepton_inference_duration_seconds histogram",
        ]
        lines += self.inference.lines("lepton_inference_duration_seconds", {})
        lines += [
            "# HELP lepton_predictions_total Items predicted.",
            "# TYPE lepton_predictions_total counter",
            f"lepton_predictions_total {self.items}",
            "# HELP lepton_queue_depth Items waiting for the model.",
            "# TYPE lepton_queue_depth gauge",
            f"lepton_queue_depth {self.queue_depth()}",
            "# HELP lepton_ready 1 once the model is loaded and warmed up.",
            "# TYPE lepton_ready gauge",
            f"lepton_ready {int(self.ready)}",
        ]
        if monitoring is not None:
            lines += monitoring_lines(monitoring)
        return "\n".join(lines) + "\n"
