"""The sandbox image: a content-addressed tag, cached builds, a clear error without debootstrap."""

import shutil

import pytest

from rlvr.sandbox import SandboxUnavailable, build_image, connect, image_tag
from rlvr.sandbox.image import CONTEXT, build_base_offline, image_exists


def test_the_tag_is_a_hash_of_the_build_context():
    tag = image_tag()
    assert tag.startswith("rlvr-sandbox:") and len(tag.split(":")[1]) == 12
    assert image_tag() == tag
    assert {p.name for p in CONTEXT.iterdir()} >= {"Dockerfile", "runner.py", "zygote.py", "judge.py", "wire.py"}


def test_the_tag_changes_when_the_runner_changes(tmp_path, monkeypatch):
    copy = tmp_path / "container"
    shutil.copytree(CONTEXT, copy)
    monkeypatch.setattr("rlvr.sandbox.image.CONTEXT", copy)
    before = image_tag()
    (copy / "runner.py").write_text((copy / "runner.py").read_text() + "\n# changed\n")
    assert image_tag() != before


def test_building_an_existing_image_is_cached():
    client = connect()
    messages: list[str] = []
    assert build_image(client, log=messages.append) == image_tag()
    assert image_exists(client, image_tag())
    assert messages == []  # nothing built, nothing pulled


def test_building_offline_without_debootstrap_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("shutil.which", lambda name, path=None: None if "debootstrap" in name else name)
    with pytest.raises(SandboxUnavailable, match="apt-get install debootstrap"):
        build_base_offline(connect(), log=lambda message: None)
