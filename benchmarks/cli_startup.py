"""CLI start-up time: `lepton --help` and `lepton plugins` beside `python -c pass`, in one script.

Usage: python benchmarks/cli_startup.py [--repeat 7]
Goal: under 0.5 s for both with all five verticals installed (torch is never imported by either).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time


def _median_seconds(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Print the median wall time of each command and its ratio to a bare interpreter start."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    lepton = shutil.which("lepton") or f"{sys.prefix}/bin/lepton"
    reference = _median_seconds([sys.executable, "-c", "pass"], args.repeat)
    print(f"{'command':<28}{'median s':>10}{'x python -c pass':>18}{'goal < 0.5 s':>14}")
    print(f"{'python -c pass':<28}{reference:>10.3f}{1.0:>18.1f}{'':>14}")
    for label, cmd in (("lepton --help", [lepton, "--help"]), ("lepton plugins", [lepton, "plugins"])):
        seconds = _median_seconds(cmd, args.repeat)
        verdict = "ok" if seconds < 0.5 else "SLOW"
        print(f"{label:<28}{seconds:>10.3f}{seconds / reference:>18.1f}{verdict:>14}")


if __name__ == "__main__":
    main()
