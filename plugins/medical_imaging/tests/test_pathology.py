"""pathology: the contract kit on tiny generated slides, the bundle's predictor on hostile uploads, the
slide loader's one-line errors, lesion-tile overlap and attention scoring."""

from __future__ import annotations

import base64
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lepton_medical_imaging.pathology.data import PathologyDataModule, SlideBag, lesion_tiles, load_slides
from lepton_medical_imaging.pathology.demo import make_demo_slides, render_slide, tiff_bytes
from lepton_medical_imaging.pathology.evaluation import attention_scores
from lepton_medical_imaging.pathology.slides import TilingOptions, read_level

from lepton_core.bundle import load_bundle
from lepton_core.errors import ConfigError, DataError
from lepton_core.testing import check_plugin

TINY = ["data.demo_slides=16", "data.demo_size=128", "data.max_tiles=8", "model.width=4", "model.embedding_dim=16"]


def test_pathology_contract_and_hostile_uploads(tmp_path: Path) -> None:
    report = check_plugin("medical_imaging", tmp_path, task="pathology", overrides=TINY)
    result = report.tasks["pathology"]
    assert {"model", "tile_stats_logistic"} <= set(result.metrics)
    assert {"roc_auc", "accuracy", "attention_auroc", "attention_top1_lesion"} <= set(result.metrics["model"])
    assert (result.run_dir / "figures" / "attention.png").is_file()
    predictor = load_bundle(result.bundle_dir).predictor
    pixels, _ = render_slide(128, tumour=True, rng=np.random.default_rng(1))
    out = predictor.predict([{"image": base64.b64encode(tiff_bytes(pixels, levels=1)).decode(), "top_tiles": 2}])[0]
    assert 0 <= out["probability"] <= 1 and out["label"] in ("normal", "tumour") and len(out["top_tiles"]) == 2
    with pytest.raises(DataError, match="is not a TIFF file"):
        predictor.predict([{"image": base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(64)).decode()}])
    predictor.max_slide_bytes = 1000
    with pytest.raises(DataError, match="larger than 1000 bytes"):
        predictor.predict([{"image": base64.b64encode(tiff_bytes(pixels, levels=1)).decode()}])


def _deflate_bomb() -> bytes:
    """A one-tile Deflate TIFF whose tile inflates to 50 times its declared size."""
    import io

    import tifffile

    data = bytearray(tiff_bytes(np.random.default_rng(0).integers(0, 255, (16, 16, 3), dtype=np.uint8), levels=1, tile=16))
    with tifffile.TiffFile(io.BytesIO(bytes(data))) as tif:
        page = tif.pages[0]
        offset, count = page.dataoffsets[0], page.databytecounts[0]
    bomb = zlib.compress(bytes(16 * 16 * 3 * 50), 9)
    assert len(bomb) <= count
    data[offset : offset + len(bomb)] = bomb
    return bytes(data)


def test_uploads_cannot_inflate_past_their_declared_size() -> None:
    bomb = _deflate_bomb()
    assert read_level(bomb, 0, "trusted")[0].shape == (16, 16, 3)  # tifffile alone would inflate it all
    with pytest.raises(DataError, match="inflates past its declared 768 bytes"):
        read_level(bomb, 0, "upload", hostile=True)


@pytest.fixture
def slides(tmp_path: Path) -> Path:
    """12 generated 128-px slides with labels.csv and lesions.csv."""
    return make_demo_slides(tmp_path / "slides", n_slides=12, size=128, seed=2)


def _edit_labels(folder: Path, change) -> Path:
    labels = folder / "labels.csv"
    change(pd.read_csv(labels)).to_csv(labels, index=False)
    return folder


@pytest.mark.parametrize(
    ("prepare", "options", "message"),
    [
        (lambda f: f / "absent", {}, "slide folder not found"),
        (lambda f: [p.unlink() for p in f.glob("*.tif")] and f, {}, "holds no slides"),
        (lambda f: (f / "slide_003.tif").write_bytes(b"not a tiff at all") and f, {}, "slide_003.tif is not a TIFF file"),
        (lambda f: _edit_labels(f, lambda t: t.rename(columns={"label": "diagnosis"})), {}, "has no column\\(s\\) label"),
        (lambda f: _edit_labels(f, lambda t: pd.concat([t, pd.DataFrame({"slide": ["ghost"], "label": [1]})])), {},
         "names 1 slide\\(s\\) not in .*'ghost'"),
        (lambda f: _edit_labels(f, lambda t: t.assign(label=0)), {}, "one class only"),
        (lambda f: f, {"tile_size": 256}, "smaller than one 256-px tile"),
        (lambda f: f, {"level": 3}, "has 2 pyramid level\\(s\\), so level 3 does not exist"),
    ],
)
def test_bad_slide_folders_raise_one_line(slides: Path, prepare, options: dict, message: str) -> None:
    folder = prepare(slides)
    with pytest.raises(DataError, match=message):
        PathologyDataModule(path=str(folder), **options).setup()


def test_folder_loads_at_a_coarser_level_with_lesion_tiles(slides: Path) -> None:
    bags, unlabelled = load_slides(slides, TilingOptions(level=1, tile_size=16, max_tiles=6))
    assert unlabelled == 0 and len(bags) == 12 and all(len(b.tiles) <= 6 for b in bags)
    assert all(b.tile_px0 == 32 and b.tiles.shape[1:] == (3, 16, 16) for b in bags)
    assert any(b.lesion.any() for b in bags if b.label) and not any(b.lesion.any() for b in bags if not b.label)
    with pytest.raises(ConfigError, match="data.tile_size=4"):
        PathologyDataModule(tile_size=4)


def test_lesion_overlap_and_attention_scores() -> None:
    coords = np.array([[0, 0], [0, 32], [32, 0], [32, 32]])
    assert lesion_tiles(coords, 32, np.array([[40.0, 0.0, 64.0, 30.0]])).tolist() == [False, True, False, False]
    bag = SlideBag("s", 1, np.zeros((4, 3, 8, 8), np.uint8), coords, 32, (2, 2), np.zeros((8, 8, 3), np.uint8),
                   np.array([False, True, False, False]))
    scores = attention_scores([bag], [np.array([0.1, 0.6, 0.2, 0.1])])
    assert scores == {"attention_auroc": 1.0, "attention_top1_lesion": 1.0}
    assert attention_scores([bag], [np.full(4, 0.25)])["attention_auroc"] == 0.5  # uniform attention: chance
    normal = SlideBag(**{**bag.__dict__, "label": 0})
    assert np.isnan(attention_scores([normal], [np.full(4, 0.25)])["attention_auroc"])  # only tumour slides count
