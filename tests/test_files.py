"""Atomic writes: a failed or killed write leaves the previous version and nothing half-written."""

import os
import stat
from pathlib import Path

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


def test_a_failed_swap_puts_the_previous_folder_back(tmp_path, monkeypatch):
    target = tmp_path / "db"
    target.mkdir()
    (target / "keep.txt").write_text("old")
    real_replace, calls = os.replace, []

    def replace_failing_on_the_swap(source, destination):
        calls.append(Path(source).name)
        if len(calls) == 2:  # the old folder is aside; the new one fails to move in
            raise OSError("disk trouble")
        real_replace(source, destination)

    monkeypatch.setattr(os, "replace", replace_failing_on_the_swap)
    with pytest.raises(OSError, match="disk trouble"), atomic_directory(target) as staging:
        (staging / "new.txt").write_text("new")
    assert [p.name for p in target.iterdir()] == ["keep.txt"] and _leftovers(tmp_path) == []


def test_files_and_folders_get_the_usual_permissions(tmp_path):
    mask = os.umask(0o022)
    try:
        write_text(tmp_path / "a.txt", "x")
        with atomic_directory(tmp_path / "db"):
            pass
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "db").stat().st_mode) == 0o755


def test_lock_file_sits_beside_the_output(tmp_path):
    with output_lock(tmp_path / "db"):
        assert (tmp_path / ".db.lock").exists()


def test_digest_changes_with_one_byte(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(b"\0" * 100)
    before = file_digest(path)
    path.write_bytes(b"\0" * 99 + b"\1")
    assert file_digest(path) != before
