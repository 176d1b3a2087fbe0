"""Image sets of parts: MVTec AD folders, normal/abnormal folders, or generated textured surfaces with defects."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lepton_core import DataError
from lepton_core.vision.images import IMAGE_SUFFIXES, decode_stack

__all__ = ["ImageSet", "generate_surfaces", "read_folders", "read_mvtec", "read_parts"]

GOOD = "good"


@dataclass
class ImageSet:
    """Images (uint8 (N, C, H, W)) with labels (1 = defect), defect kinds, names and optional masks.

    ``masks`` (uint8 (N, H, W), 1 = defective pixel) is None when no ground truth exists; ``has_mask``
    flags the images whose mask is known (good images always are, when masks exist at all).
    """

    images: np.ndarray
    labels: np.ndarray
    kinds: list[str]
    names: list[str]
    masks: np.ndarray | None = None
    has_mask: np.ndarray | None = field(default=None)

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, index: np.ndarray) -> ImageSet:
        """The subset at ``index``."""
        index = np.asarray(index, dtype=np.int64)
        return ImageSet(
            self.images[index],
            self.labels[index],
            [self.kinds[i] for i in index],
            [self.names[i] for i in index],
            None if self.masks is None else self.masks[index],
            None if self.has_mask is None else self.has_mask[index],
        )

    @staticmethod
    def join(first: ImageSet, second: ImageSet) -> ImageSet:
        """The two sets one after the other (masks kept only when both have them)."""
        both = first.masks is not None and second.masks is not None
        return ImageSet(
            np.concatenate([first.images, second.images]),
            np.concatenate([first.labels, second.labels]),
            first.kinds + second.kinds,
            first.names + second.names,
            np.concatenate([first.masks, second.masks]) if both else None,
            np.concatenate([first.has_mask, second.has_mask]) if both else None,
        )


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _common_size(files: list[Path], root: Path) -> tuple[int, int]:
    """The one (height, width) every file shares; mixed sizes raise a DataError naming two of them."""
    from PIL import Image

    sizes: dict[tuple[int, int], Path] = {}
    for path in files:
        with Image.open(path) as image:
            sizes.setdefault((image.height, image.width), path)
        if len(sizes) > 1:
            (a, pa), (b, pb) = list(sizes.items())[:2]
            raise DataError(
                f"images have mixed sizes ({a[1]}x{a[0]} in {pa.relative_to(root)}, {b[1]}x{b[0]} in {pb.relative_to(root)})",
                "set data.image_size (e.g. 128) to resize every image to one size",
            )
    return next(iter(sizes))


def _decode(files: list[Path], root: Path, size: int | None, channels: int) -> np.ndarray:
    target = (size, size) if size else _common_size(files, root)
    names = [str(p.relative_to(root)) for p in files]
    return decode_stack(files, target, channels, names=names).images


def read_mvtec(root: Path, size: int | None, channels: int) -> tuple[ImageSet, ImageSet]:
    """Read an MVTec AD category: (train normals, test set with defect kinds and masks when present)."""
    train_dir = root / "train" / GOOD
    if not train_dir.is_dir():
        raise DataError(
            f"{root} has no train/good folder",
            "use the MVTec AD layout (train/good, test/good, test/<defect>) or normal/ and abnormal/ folders",
        )
    train_files = _image_files(train_dir)
    test_dir = root / "test"
    test_files: list[Path] = []
    kinds: list[str] = []
    for folder in sorted(p for p in test_dir.iterdir() if p.is_dir()) if test_dir.is_dir() else []:
        found = _image_files(folder)
        test_files += found
        kinds += [folder.name] * len(found)
    if not train_files:
        raise DataError(f"{train_dir} holds no images", "put the normal training images in train/good")
    if not any(k != GOOD for k in kinds) or GOOD not in kinds:
        raise DataError(
            f"{root}/test needs good/ and at least one defect folder with images",
            "add test/good and test/<defect type> images (the threshold and the metrics need both)",
        )
    every = train_files + test_files
    images = _decode(every, root, size, channels)
    labels = np.asarray([k != GOOD for k in kinds], dtype=np.int64)
    train = ImageSet(images[: len(train_files)], np.zeros(len(train_files), np.int64), [GOOD] * len(train_files),
                     [str(p.relative_to(root)) for p in train_files])
    test = ImageSet(images[len(train_files) :], labels, kinds, [str(p.relative_to(root)) for p in test_files])
    _attach_masks(test, test_files, root, images.shape[2:])
    return train, test


def _attach_masks(test: ImageSet, files: list[Path], root: Path, shape: tuple[int, int]) -> None:
    """Read ground_truth/<defect>/<name>_mask.png for defect images (good images: an empty mask)."""
    truth = root / "ground_truth"
    if not truth.is_dir():
        return
    mask_files = [truth / kind / f"{path.stem}_mask.png" for kind, path in zip(test.kinds, files)]
    known = np.asarray([k == GOOD or m.is_file() for k, m in zip(test.kinds, mask_files)])
    masks = np.zeros((len(files), *shape), np.uint8)
    present = [i for i, (k, m) in enumerate(zip(test.kinds, mask_files)) if k != GOOD and m.is_file()]
    if present:
        stack = decode_stack([mask_files[i] for i in present], shape, channels=1, names=[str(mask_files[i]) for i in present])
        masks[present] = (stack.images[:, 0] > 127).astype(np.uint8)
    test.masks, test.has_mask = masks, known


def read_folders(root: Path, normal_dir: str, abnormal_dir: str, size: int | None, channels: int) -> tuple[ImageSet, ImageSet]:
    """Read ``normal_dir``/ and ``abnormal_dir``/ (defect kinds from sub-folders, or 'defect')."""
    normal_path, abnormal_path = root / normal_dir, root / abnormal_dir
    normal_files = _image_files(normal_path) if normal_path.is_dir() else []
    abnormal_files: list[Path] = []
    kinds: list[str] = []
    if abnormal_path.is_dir():
        abnormal_files = _image_files(abnormal_path)
        kinds = ["defect"] * len(abnormal_files)
        for folder in sorted(p for p in abnormal_path.iterdir() if p.is_dir()):
            found = _image_files(folder)
            abnormal_files += found
            kinds += [folder.name] * len(found)
    if not normal_files or not abnormal_files:
        raise DataError(
            f"{root}: {normal_dir}/ has {len(normal_files)} images and {abnormal_dir}/ has {len(abnormal_files)}",
            "put normal images in normal/ and defective ones in abnormal/ (both are needed)",
        )
    images = _decode(normal_files + abnormal_files, root, size, channels)
    n = len(normal_files)
    normal = ImageSet(images[:n], np.zeros(n, np.int64), [GOOD] * n, [str(p.relative_to(root)) for p in normal_files])
    abnormal = ImageSet(images[n:], np.ones(len(abnormal_files), np.int64), kinds,
                        [str(p.relative_to(root)) for p in abnormal_files])
    return normal, abnormal


def read_parts(
    path: str, layout: str, normal_dir: str, abnormal_dir: str, size: int | None, channels: int
) -> tuple[ImageSet, ImageSet, str]:
    """Read ``path`` in ``layout`` ('auto', 'mvtec' or 'folders'); returns (normals, labelled, layout used).

    With MVTec the normals are train/good and the labelled set is test/; with folders the normals are
    every normal image (the data module holds some out for testing) and the labelled set the abnormal ones.
    """
    root = Path(path)
    if not root.is_dir():
        raise DataError(f"image folder not found: {root}", "point data.path at an MVTec AD category or a normal/abnormal folder")
    if layout not in ("auto", "mvtec", "folders"):
        raise DataError(f"unknown data.layout '{layout}'", "use auto, mvtec or folders")
    if layout == "folders" or (layout == "auto" and not (root / "train").is_dir() and (root / normal_dir).is_dir()):
        normal, abnormal = read_folders(root, normal_dir, abnormal_dir, size, channels)
        return normal, abnormal, "folders"
    train, test = read_mvtec(root, size, channels)
    return train, test, "mvtec"


def _texture(rng: np.random.Generator, size: int) -> np.ndarray:
    """Brushed-metal surface in 0..1: stripes of random direction, pitch and phase, smooth shading and grain.

    The random direction makes normal parts vary in a way a per-pixel model cannot follow (each pixel sees
    the whole stripe amplitude), while a convolutional model can learn it.
    """
    y, x = np.mgrid[0:size, 0:size] / size
    angle = rng.uniform(0.0, np.pi)
    frequency = rng.uniform(4.0, 8.0)
    stripes = 0.1 * np.sin(2 * np.pi * frequency * (x * np.cos(angle) + y * np.sin(angle)) + rng.uniform(0, 2 * np.pi))
    shading = rng.uniform(-0.06, 0.06) * (x - 0.5) + rng.uniform(-0.06, 0.06) * (y - 0.5)
    grain = rng.normal(0.0, 0.025, (size, size))
    return 0.55 + rng.uniform(-0.04, 0.04) + stripes + shading + grain


def _scratch(rng: np.random.Generator, size: int) -> np.ndarray:
    """Intensity change of a thin straight scratch (signed, 0 outside)."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    cx, cy = rng.uniform(0.25, 0.75, 2) * size
    angle = rng.uniform(0, np.pi)
    half = rng.uniform(0.12, 0.3) * size
    along = (x - cx) * np.cos(angle) + (y - cy) * np.sin(angle)
    across = -(x - cx) * np.sin(angle) + (y - cy) * np.cos(angle)
    width = rng.uniform(0.6, 1.2)
    line = np.exp(-0.5 * (across / width) ** 2) * (np.abs(along) <= half)
    return line * rng.choice([-1.0, 1.0]) * rng.uniform(0.12, 0.21)


def _spot(rng: np.random.Generator, size: int) -> np.ndarray:
    """Intensity change of a round spot (stain or dent), signed, 0 outside."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    cx, cy = rng.uniform(0.2, 0.8, 2) * size
    radius = rng.uniform(0.03, 0.07) * size
    blob = np.exp(-0.5 * ((x - cx) ** 2 + (y - cy) ** 2) / radius**2)
    return blob * rng.choice([-1.0, 1.0]) * rng.uniform(0.12, 0.21)


def generate_surfaces(
    n_train: int, n_test_good: int, n_test_defect: int, size: int, seed: int, defect_strength: float = 1.0
) -> tuple[ImageSet, ImageSet]:
    """Deterministic demo parts: normal brushed-metal surfaces to train on; a test set with scratches and spots.

    ``defect_strength`` scales the defects' contrast (1.0: 0.12-0.21 of the full intensity range).
    """
    rng = np.random.default_rng(seed)
    tint = np.array([0.92, 0.96, 1.0])

    def render(gray: np.ndarray) -> np.ndarray:
        rgb = np.clip(gray[None] * tint[:, None, None], 0.0, 1.0)
        return np.round(rgb * 255).astype(np.uint8)

    train = np.stack([render(_texture(rng, size)) for _ in range(n_train)] or [np.zeros((3, size, size), np.uint8)])[:n_train]
    images, kinds, masks = [], [], []
    for index in range(n_test_good + n_test_defect):
        surface = _texture(rng, size)
        kind = GOOD if index < n_test_good else ("scratch" if index % 2 else "spot")
        change = np.zeros_like(surface) if kind == GOOD else (_scratch if kind == "scratch" else _spot)(rng, size) * defect_strength
        images.append(render(surface + change))
        kinds.append(kind)
        masks.append((np.abs(change) > 0.03 * defect_strength).astype(np.uint8))
    labels = np.asarray([k != GOOD for k in kinds], dtype=np.int64)
    train_set = ImageSet(train, np.zeros(n_train, np.int64), [GOOD] * n_train, [f"train/good/{i:03d}.png" for i in range(n_train)])
    names = [f"test/{k}/{i:03d}.png" for i, k in enumerate(kinds)]
    test_set = ImageSet(np.stack(images), labels, kinds, names, np.stack(masks), np.ones(len(kinds), bool))
    return train_set, test_set
