"""prepare never deletes what it did not write: out_dir rules, staged replacement, kill -9."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mocap_samples import walking, write_text

from remodiffuse.errors import InputError
from remodiffuse.export.bvh import write_bvh
from remodiffuse.files import output_lock
from remodiffuse.io import importer
from remodiffuse.io.importer import prepare_dataset

KILL_TAKES, KILL_FRAMES = 24, 1200  # enough work for the kill to land mid-way
POLL_SECONDS, WAIT_SECONDS = 0.01, 300.0


def _takes(folder: Path, count: int, frames: int = 60) -> Path:
    """`count` walking takes (captioned by a .txt beside each) in `folder`."""
    for n in range(count):
        write_bvh(walking(frames + n), folder / f"take{n}.bvh", fps=20)
        write_text(folder, f"take{n}.txt", "a person walks forward\n")
    return folder


def _snapshot(folder: Path) -> dict[str, bytes]:
    """{relative path: bytes} of every file under `folder`."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _leftovers(out_dir: Path) -> list[Path]:
    return sorted(out_dir.parent.glob(f".{out_dir.name}.*-*"))


@pytest.fixture
def previous(tmp_path) -> tuple[Path, Path]:
    """(input folder of two takes, out_dir holding prepare's output of it)."""
    source = _takes(tmp_path / "in", 2)
    prepare_dataset(source, tmp_path / "D")
    return source, tmp_path / "D"


def _user_files_without_report(out_dir: Path) -> None:
    write_text(out_dir, "notes.txt", "mine")


def _user_report(out_dir: Path) -> None:
    write_text(out_dir, "report.json", json.dumps({"mine": True}))
    write_text(out_dir, "notes.txt", "mine")


@pytest.mark.parametrize("setup", [_user_files_without_report, _user_report])
def test_foreign_out_dir_is_refused_and_left_intact(tmp_path, setup):
    source = _takes(tmp_path / "in", 1)
    out_dir = tmp_path / "D"
    out_dir.mkdir()
    setup(out_dir)
    before = _snapshot(out_dir)
    with pytest.raises(InputError, match=f"out_dir {out_dir} is not empty \\(it holds notes.txt"):
        prepare_dataset(source, out_dir)
    assert _snapshot(out_dir) == before and not _leftovers(out_dir)


@pytest.mark.parametrize(
    "extra", ["notes.txt", ".DS_Store", "new_joints/extra.npy", "texts/take9.txt", "models/a.pt"]
)
def test_previous_output_with_user_files_is_refused_and_left_intact(previous, extra):
    source, out_dir = previous
    (out_dir / extra).parent.mkdir(exist_ok=True)
    (out_dir / extra).write_text("mine")
    before = _snapshot(out_dir)
    first = extra.split("/")[0] if extra.startswith("models") else extra
    with pytest.raises(InputError, match=f"out_dir {out_dir} holds {first}, which prepare did not"):
        prepare_dataset(source, out_dir)
    assert _snapshot(out_dir) == before and not _leftovers(out_dir)


def test_input_inside_out_dir_is_refused(previous, tmp_path):
    _, out_dir = previous
    inside = _takes(out_dir / "takes", 1)  # the original bug: prepare deleted it
    before = _snapshot(out_dir)
    for input_path in (inside, out_dir, inside / "take0.bvh"):
        with pytest.raises(InputError, match=f"input {input_path} is out_dir {out_dir} or inside"):
            prepare_dataset(input_path, out_dir)
    assert _snapshot(out_dir) == before
    with pytest.raises(InputError, match="is a file, not a folder"):
        prepare_dataset(tmp_path / "in", out_dir / "report.json")


def test_previous_output_is_replaced_and_leftovers_removed(previous, tmp_path):
    _, out_dir = previous
    (tmp_path / ".D.tmp-stale" / "new_joints").mkdir(parents=True)  # a killed prepare's staging
    (tmp_path / ".D.old-stale" / "D").mkdir(parents=True)
    report = prepare_dataset(_takes(tmp_path / "other", 3), out_dir)
    assert report["imported"] == 3 and len(list((out_dir / "new_joints").iterdir())) == 3
    assert not _leftovers(out_dir)
    assert json.loads((out_dir / "report.json").read_text())["imported"] == 3


def test_failed_prepare_keeps_the_previous_output(previous, monkeypatch):
    source, out_dir = previous
    before = _snapshot(out_dir)

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(importer, "_write_lists_and_report", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        prepare_dataset(source, out_dir)
    assert _snapshot(out_dir) == before and not _leftovers(out_dir)


def test_concurrent_prepare_is_refused(previous):
    source, out_dir = previous
    with output_lock(out_dir), pytest.raises(InputError, match="written by another prepare"):
        prepare_dataset(source, out_dir)


def _prepare_command(*overrides: str) -> list[str]:
    return [sys.executable, "-m", "remodiffuse.prepare", *overrides]


def test_cli_refuses_an_out_dir_with_user_files(previous, tmp_path):
    _, out_dir = previous
    write_text(out_dir, "notes.txt", "mine")
    before = _snapshot(out_dir)
    result = subprocess.run(
        _prepare_command("input=in", "out_dir=D"), capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode != 0
    assert str(out_dir) in result.stderr and "notes.txt" in result.stderr
    assert _snapshot(out_dir) == before


def _kill_mid_way(process: subprocess.Popen, out_dir: Path) -> None:
    """SIGKILL `process` once its staging folder holds a first motion (fail if it ends first)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        if any(out_dir.parent.glob(f".{out_dir.name}.tmp-*/new_joint_vecs/*.npy")):
            process.send_signal(signal.SIGKILL)
            process.wait()
            return
        time.sleep(POLL_SECONDS)
    process.kill()
    pytest.fail(f"prepare ended (code {process.poll()}) before it could be killed mid-way")


@pytest.mark.slow
def test_prepare_killed_mid_way_keeps_the_previous_output(previous, tmp_path):
    source, out_dir = previous
    _takes(tmp_path / "many", KILL_TAKES, KILL_FRAMES)
    before = _snapshot(out_dir)
    process = subprocess.Popen(
        _prepare_command("input=many", "out_dir=D"),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _kill_mid_way(process, out_dir)
    assert process.returncode == -signal.SIGKILL
    assert _snapshot(out_dir) == before  # the previous output, untouched
    assert [p.name.split("-")[0] for p in _leftovers(out_dir)] == [".D.tmp"]

    report = prepare_dataset(source, out_dir)  # a later prepare succeeds and cleans up

    assert report["imported"] == 2 and not _leftovers(out_dir)
    assert _snapshot(out_dir).keys() == before.keys()
