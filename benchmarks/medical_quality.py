"""Quality of the medical imaging plugin's default model vs logistic regression on pixels, on real small images.

Real data offline: scikit-learn's bundled handwritten digits (1797 grayscale 8x8 images, 10 classes) written
as an image folder (one subfolder per class) and run through the real CLI with the default model; then the
generated demo scans. Prints test accuracy and macro ROC-AUC of the network and of the baseline.

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
    """One CLI run; print and return the test metrics of model and baseline."""
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
        f"{name}  ({time.perf_counter() - start:.0f} s, {metrics['data']['train images']} train / "
        f"{metrics['data']['test images']} test images)"
    )
    for contender, values in scores.items():
        print(
            f"  {contender:16s} accuracy {values['accuracy']:.3f}   macro ROC-AUC {values['roc_auc']:.3f}   "
            f"ECE {values['ece']:.3f}"
        )
    verdict = (
        "beats" if scores["model"]["accuracy"] > scores["logistic_pixels"]["accuracy"] else "does NOT beat"
    )
    print(f"  -> the network {verdict} logistic regression on pixels in accuracy")
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
        run("sklearn digits (10 classes, grayscale 8x8 -> 32x32)", overrides, root / "out")
        if not args.quick:
            run("generated demo scans (normal vs lesion, 64x64)", [], root / "out")


if __name__ == "__main__":
    main()
