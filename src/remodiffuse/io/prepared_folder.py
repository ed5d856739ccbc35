"""The folder `prepare` writes: whose it is, and who may replace it.

prepare replaces out_dir whole, so it writes only to a missing or empty out_dir or to its own
previous output holding nothing but what prepare wrote (checked entry by entry against its
report.json), never to a folder holding the input, and only one prepare at a time.
"""

from __future__ import annotations

import glob
import json
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import Timeout

from remodiffuse.errors import InputError
from remodiffuse.files import RETIRED_MARK, TEMPORARY_MARK, output_lock

REPORT_FILE = "report.json"
LAYOUT = ("new_joint_vecs", "new_joints", "texts")
LIST_FILES = ("train", "val", "test", "all", "uncaptioned")  # NAME.txt lists of motion ids


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_input_outside(input_path: Path, out_dir: Path) -> None:
    """InputError when the input is out_dir or inside it (out_dir is replaced whole)."""
    given = input_path.expanduser().absolute()
    if _inside(given, out_dir) or _inside(given.resolve(), out_dir):
        raise InputError(
            f"input {given} is out_dir {out_dir} or inside it, and prepare replaces out_dir "
            "whole; choose an out_dir outside the input"
        )


def _read_report(out_dir: Path) -> dict[str, Any] | None:
    """out_dir/report.json when it is a prepare report (has "motions" with their captions)."""
    try:
        report = json.loads((out_dir / REPORT_FILE).read_text(encoding="utf-8"))
        if all(isinstance(motion["captions"], list) for motion in report["motions"].values()):
            return report
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    return None


def _own_layout(report: Mapping[str, Any]) -> dict[str, set[str] | None]:
    """What prepare wrote for `report`: {entry of out_dir: names of the files in it, None for a
    file}."""
    motions = report["motions"]
    arrays = {f"{motion_id}.npy" for motion_id in motions}
    files = (REPORT_FILE, "Mean.npy", "Std.npy", *(f"{name}.txt" for name in LIST_FILES))
    return {
        **dict.fromkeys(files),
        "new_joint_vecs": arrays,
        "new_joints": set(arrays),
        "texts": {f"{i}.txt" for i, motion in motions.items() if motion["captions"]},
    }


def _unexpected_entry(out_dir: Path, layout: Mapping[str, set[str] | None]) -> Path | None:
    """The first entry of out_dir (sorted, folders of the layout searched) not in `layout`."""
    for entry in sorted(out_dir.iterdir()):
        if entry.name not in layout or entry.is_symlink():
            return entry
        files = layout[entry.name]
        if files is None:  # a file of the layout
            if not entry.is_file():
                return entry
        elif not entry.is_dir():
            return entry
        else:
            for child in sorted(entry.iterdir()):
                if child.name not in files or child.is_symlink() or not child.is_file():
                    return child
    return None


def check_out_dir(out_dir: Path) -> None:
    """InputError unless out_dir is missing, empty, or prepare's output and nothing else."""
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise InputError(f"out_dir {out_dir} is a file, not a folder")
    first = next(iter(sorted(out_dir.iterdir())), None)
    if first is None:
        return
    report = _read_report(out_dir)
    if report is None:
        raise InputError(
            f"out_dir {out_dir} is not empty (it holds {first.name}) and is not the output of a "
            f"previous prepare (no readable {REPORT_FILE}); choose another out_dir or empty it"
        )
    unexpected = _unexpected_entry(out_dir, _own_layout(report))
    if unexpected is not None:
        raise InputError(
            f"out_dir {out_dir} holds {unexpected.relative_to(out_dir)}, which prepare did not "
            "write; prepare replaces out_dir whole: move it away or choose another out_dir"
        )


@contextmanager
def exclusive(out_dir: Path) -> Iterator[None]:
    """Hold out_dir's output lock; InputError when another prepare holds it."""
    try:
        with output_lock(out_dir, timeout=0):
            yield
    except Timeout:
        raise InputError(f"out_dir {out_dir} is being written by another prepare") from None


def remove_leftovers(out_dir: Path) -> None:
    """Remove the staging and replaced folders that killed prepares left beside out_dir (only
    with the output lock held: then no other prepare is using them)."""
    for mark in (TEMPORARY_MARK, RETIRED_MARK):
        for leftover in out_dir.parent.glob(f".{glob.escape(out_dir.name)}{mark}*"):
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
