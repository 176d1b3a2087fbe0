"""Quality of the medical imaging plugin's default model against every baseline, on real and on demo images.

Real data offline: scikit-learn's bundled handwritten digits (1797 grayscale 8x8 images, 10 classes, shipped
inside the scikit-learn wheel) written as an image folder (one subfolder per class) and run through the real
CLI with the default model; then the generated demo scans. (MedMNIST and scikit-learn's face sets download
their data at first use, so they cannot serve here.) Model selection uses the validation split only (best
checkpoint by val_loss; temperature scaling kept only where it lowers validation ECE); the test split is
scored once. Prints the model beside every baseline, and the metrics each baseline wins.

    python benchmarks/medical_quality.py             # digits + demo
    python benchmarks/medical_quality.py --quick     # digits only, fewer epochs
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from lepton_core.testing import latest_run, run_lepton

COLUMNS = ("roc_auc", "accuracy", "balanced_accuracy", "log_loss", "ece")


def write_digits(folder: Path) -> Path:
    """sklearn's digits as ``<folder>/<digit>/<i>.png`` (0..16 grey levels scaled to 0..255)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    for index, (image, label) in enumerate(zip(digits.images, digits.target)):
        target = folder / str(label)
        target.mkdir(parents=True, exist_ok=True)
        Image.fromarray((image * 255 / 16).round().astype(np.uint8)).save(target / f"{index:04d}.png")
    return folder


def run(name: str, overrides: list[str], output: Path) -> dict[str, dict[str, float]]:
    """One CLI run; print the test metrics of the model beside every baseline, and return them."""
    start = time.perf_counter()
    output.mkdir(parents=True, exist_ok=True)
    done = run_lepton(["run", "plugin=medical_imaging", "callbacks.progress_bar=null", *overrides], output)
    if done.returncode != 0:
        raise SystemExit(f"{name}: lepton run failed\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    metrics = json.loads(
        (latest_run(output, "medical_imaging", "image_classification") / "metrics.json").read_text()
    )
    scores = metrics["metrics"]
    print(
        f"\n{name}  ({time.perf_counter() - start:.0f} s, {metrics['data']['train images']} train / "
        f"{metrics['data']['test images']} test images)"
    )
    print(f"  {'contender':18s}" + "".join(f"{c:>19s}" for c in COLUMNS))
    for contender, values in scores.items():
        print(f"  {contender:18s}" + "".join(f"{values.get(c, float('nan')):>19.3f}" for c in COLUMNS))
    model = scores["model"]
    for contender, values in scores.items():
        if contender != "model":
            print(
                f"  model / {contender}: ROC-AUC ratio {model['roc_auc'] / values['roc_auc']:.3f}, "
                f"accuracy ratio {model['accuracy'] / values['accuracy']:.3f}"
            )
    wins = metrics.get("baseline_wins_on", {})
    print("  baselines win on: " + ("; ".join(f"{b}: {', '.join(m)}" for b, m in wins.items()) or "nothing"))
    print("  " + next((n for n in metrics["notes"] if n.startswith("Calibration")), "no calibration note"))
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="digits only, 4 epochs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        digits = write_digits(root / "digits")
        # digits: upsample 8x8 to 32x32; no flips (a mirrored digit is another shape)
        overrides = [f"data.path={digits}", "data.size=32", "data.augment.horizontal_flip=0"]
        if args.quick:
            overrides.append("trainer.max_epochs=4")
        run("sklearn digits (real, 10 classes, grayscale 8x8 -> 32x32)", overrides, root / "out")
        if not args.quick:
            run("generated demo scans (normal vs lesion, 64x64)", [], root / "out")


if __name__ == "__main__":
    main()
