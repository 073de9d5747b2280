"""The committed photo and face manifests are consistent and cover the cases issue 10 asks for."""

from __future__ import annotations

import re
from collections import Counter

from bench.photos import load_faces, load_manifest

FETCH = {"pip-sdist", "pip-wheel", "apt"}


def test_every_photo_names_package_version_fetch_path_hash_and_licence() -> None:
    entries = load_manifest()
    assert len(entries) >= 15
    assert len({e.id for e in entries}) == len(entries)
    for e in entries:
        assert e.fetch in FETCH, e.id
        assert e.name and e.version, e.id
        assert re.fullmatch(r"[0-9a-f]{64}", e.sha256), e.id
        assert e.member and not e.member.startswith("/"), e.id
        assert e.licence and e.source, e.id


def test_every_face_belongs_to_a_photo_and_has_a_sane_box() -> None:
    ids = {e.id for e in load_manifest()}
    faces = load_faces()
    assert set(faces) <= ids
    for photo, items in faces.items():
        assert [f.index for f in items] == list(range(len(items))), photo
        for f in items:
            left, top, right, bottom = f.box
            assert 0 <= left < right and 0 <= top < bottom, (photo, f.index)
            assert right - left >= 55 and bottom - top >= 55, (photo, f.index)  # ~60 px faces and up


def test_the_set_covers_groups_black_and_white_three_quarter_views_and_glasses() -> None:
    entries = load_manifest()
    faces = load_faces()
    photo_cases = Counter(a for e in entries for a in e.attributes)
    assert sum(len(faces.get(e.id, [])) >= 2 for e in entries) >= 4  # multi-person photos
    assert photo_cases["bw"] >= 2
    face_cases = Counter(a for items in faces.values() for f in items for a in f.attributes)
    assert face_cases["three_quarter"] >= 3
    assert sum(any("glasses" in f.attributes for f in items) for items in faces.values()) >= 2
    # one person in two photos makes rank-1 a real test
    persons = Counter(f.person for items in faces.values() for f in items)
    assert max(persons.values()) >= 2
