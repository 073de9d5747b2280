"""Named templates: load, look up, and report every bad template by name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from restyle.config import Settings
from restyle.errors import TemplateInvalid, UnknownTemplate
from restyle.imaging.actions import parse_actions
from restyle.imaging.templates import TemplateSet, parse_file


def test_the_packaged_defaults_load_and_parse() -> None:
    templates = TemplateSet.default()
    assert {"thumbnail", "avatar", "tplv-restyle-thumb"} <= set(templates)
    assert templates.get("thumbnail") == parse_actions("image/resize,m_fill,w_256,h_256/format,webp")


def test_yaml_and_json_files_load(tmp_path: Path) -> None:
    yaml_file = tmp_path / "t.yaml"
    yaml_file.write_text(
        'small: "image/resize,w_64"\ntplv-abc123-cover: "resize,m_fill,w_10,h_10/format,jpg"\n'
    )
    json_file = tmp_path / "t.json"
    json_file.write_text(json.dumps({"style01": "image/rotate,90"}))
    from_yaml = TemplateSet.load(yaml_file)
    assert (
        len(from_yaml) == 2
        and str(from_yaml.get("tplv-abc123-cover")) == "image/resize,m_fill,w_10,h_10/format,jpg"
    )
    assert str(TemplateSet.load(json_file).get("style01")) == "image/rotate,90"


def test_an_unknown_name_is_a_404_listing_the_names(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text('a: "image/flip,h"\nb: "image/flip,v"\n')
    with pytest.raises(UnknownTemplate) as caught:
        TemplateSet.load(path).get("c")
    assert caught.value.status == 404 and caught.value.code == "template.unknown"
    assert "'c'" in caught.value.message and "a, b" in caught.value.message


def test_every_bad_template_is_named_with_its_problem(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        'good: "image/flip,h"\nbad: "image/resize,w_0"\nworse: "image/zoom,2"\n"a b": "image/flip,h"\n'
        "number: 5\n"
    )
    chains, problems = parse_file(path)
    assert list(chains) == ["good"]
    assert len(problems) == 4
    assert "'bad'" in problems[0] and "'w' is 0" in problems[0]
    assert "'worse'" in problems[1] and "'zoom'" in problems[1]
    assert "'a b'" in problems[2] and "'number'" in problems[3]
    with pytest.raises(TemplateInvalid) as caught:
        TemplateSet.load(path)
    assert caught.value.code == "template.invalid" and "'bad'" in caught.value.message


@pytest.mark.parametrize(
    ("content", "words"),
    [("- a\n- b\n", "must map"), ("a: [unclosed\n", "not valid YAML")],
)
def test_a_file_that_is_not_a_mapping_is_one_problem(tmp_path: Path, content: str, words: str) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(content)
    _, problems = parse_file(path)
    assert len(problems) == 1 and words in problems[0]


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    _, problems = parse_file(tmp_path / "none.yaml")
    assert problems and "cannot be read" in problems[0]


def test_the_settings_field_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text('only: "image/flip,h"\n')
    monkeypatch.setenv("RESTYLE_IMAGES__TEMPLATES_FILE", str(path))
    configured = Settings.load().images.templates_file
    assert configured == path
    assert list(TemplateSet.from_settings(configured)) == ["only"]
    assert "thumbnail" in TemplateSet.from_settings(None)
