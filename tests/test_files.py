"""Atomic writes: a failed or killed write leaves the previous version and nothing half-written."""

import pytest

from remodiffuse.files import (
    TEMPORARY_MARK,
    atomic_directory,
    atomic_path,
    file_digest,
    output_lock,
    write_text,
)


def _leftovers(folder):
    return [p.name for p in folder.iterdir() if TEMPORARY_MARK in p.name or ".old-" in p.name]


def test_write_replaces_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "a.json"
    write_text(target, "first")
    write_text(target, "second")
    assert target.read_text() == "second" and _leftovers(tmp_path) == []


def test_a_failed_write_keeps_the_previous_file(tmp_path):
    target = tmp_path / "a.json"
    write_text(target, "good")
    with pytest.raises(RuntimeError), atomic_path(target) as temporary:
        temporary.write_text("half")
        assert temporary.suffix == ".json" and temporary.parent == tmp_path
        raise RuntimeError("killed")
    assert target.read_text() == "good" and _leftovers(tmp_path) == []


def test_a_directory_is_swapped_in_whole_or_not_at_all(tmp_path):
    target = tmp_path / "db"
    with atomic_directory(target) as staging:
        (staging / "manifest.json").write_text("v1")
    with pytest.raises(RuntimeError), atomic_directory(target) as staging:
        (staging / "manifest.json").write_text("v2, unfinished")
        raise RuntimeError("failed mid-way")
    assert (target / "manifest.json").read_text() == "v1"
    with atomic_directory(target) as staging:
        (staging / "manifest.json").write_text("v2")
    assert [p.name for p in target.iterdir()] == ["manifest.json"]
    assert (target / "manifest.json").read_text() == "v2" and _leftovers(tmp_path) == []


def test_lock_file_sits_beside_the_output(tmp_path):
    with output_lock(tmp_path / "db"):
        assert (tmp_path / ".db.lock").exists()


def test_digest_changes_with_one_byte(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(b"\0" * 100)
    before = file_digest(path)
    path.write_bytes(b"\0" * 99 + b"\1")
    assert file_digest(path) != before
