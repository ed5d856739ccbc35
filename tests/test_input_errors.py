"""Every entry point answers bad input with one `error:` line naming it: no traceback, exit != 0.

Each probe runs the command as a user would (a subprocess) on a copy of the tiny session run or of
its synthetic data, damaged in one way.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

pytestmark = pytest.mark.slow


def _damaged_run(source: Path, target: Path, damage) -> Path:
    shutil.copytree(source, target)
    damage(target)
    return target


def _truncate_weights(run: Path) -> None:
    data = (run / "model.safetensors").read_bytes()
    (run / "model.safetensors").write_bytes(data[: len(data) // 3])


def _reshape_a_tensor(run: Path) -> None:
    state = load_file(run / "model.safetensors")
    name = "input_proj.weight"
    state[name] = torch.zeros(3, 3)
    del state["input_proj.bias"]
    save_file(state, run / "model.safetensors")


def _zero_std(run: Path) -> None:
    std = np.load(run / "std.npy")
    std[5] = 0
    np.save(run / "std.npy", std)


@pytest.fixture(scope="module")
def inputs(tiny_trained_run, tmp_path_factory) -> dict[str, Path]:
    """Paths of the good run and of every damaged input the probes use."""
    run_dir, _ = tiny_trained_run
    root = tmp_path_factory.mktemp("probes")
    paths = {"run": run_dir, "root": root}
    paths["truncated"] = _damaged_run(run_dir, root / "truncated", _truncate_weights)
    paths["reshaped"] = _damaged_run(run_dir, root / "reshaped", _reshape_a_tensor)
    paths["zero_std"] = _damaged_run(run_dir, root / "zero_std", _zero_std)
    (root / "notes.txt").write_text("not a checkpoint\n")
    (root / "latin1.txt").write_bytes("a person walks\nun caf\xe9\n".encode("latin-1"))
    (root / "gap.txt").write_text("a person walks#0#3\na person jumps#3.5#6\n")
    np.save(root / "motion60.npy", np.load(run_dir / "mean.npy")[None].repeat(60, axis=0))
    np.save(root / "kit_width.npy", np.zeros((30, 251), np.float32))
    (root / "used").mkdir()
    (root / "used" / "keep.txt").write_text("user file\n")
    data = run_dir.parent / "data" / "synthetic"
    for name, damage in {
        "traversal": lambda d: (d / "train.txt").write_text("../../outside\n"),
        "zero_data_std": lambda d: np.save(d / "Std.npy", np.zeros_like(np.load(d / "Std.npy"))),
    }.items():
        paths[name] = _damaged_run(data, root / name, damage)
    return paths


GENERATE = [sys.executable, "-m", "remodiffuse.generate"]
TRAIN = [sys.executable, "-m", "remodiffuse.train", "debug=tiny", "trainer.max_epochs=1"]

# (probe, command with {placeholders} from `inputs`, text the message must contain)
PROBES = {
    "length not a number": (
        [*GENERATE, "ckpt={run}", "text=a person walks", "length=abc"],
        "length='abc'",
    ),
    "fractional length": ([*GENERATE, "ckpt={run}", "text=hi", "length=120.5"], "length=120.5"),
    "length below the model's minimum": ([*GENERATE, "ckpt={run}", "text=hi", "length=10"], "10"),
    "overlap too long": (
        [*GENERATE, "ckpt={run}", "text=hi", "length=300", "overlap=150"],
        "overlap=150 must lie in 0..98",
    ),
    "negative smoothing": (
        [*GENERATE, "ckpt={run}", "text=hi", "smoothing=-1"],
        "smoothing must be a finite number of frames >= 0, got -1",
    ),
    "timeline with a gap": ([*GENERATE, "ckpt={run}", "timeline={root}/gap.txt"], "gap.txt:2"),
    "prefix not shorter than length": (
        [*GENERATE, "ckpt={run}", "text=hi", "length=48", "prefix={root}/motion60.npy"],
        "motion60.npy: 60 frames, not shorter than length=48",
    ),
    "prefix of another layout": (
        [*GENERATE, "ckpt={run}", "text=hi", "prefix={root}/kit_width.npy"],
        "kit_width.npy: shape (30, 251)",
    ),
    "keyframe outside the motion": (
        [
            *GENERATE,
            "ckpt={run}",
            "text=hi",
            "length=80",
            "keyframes={root}/motion60.npy",
            "keyframe_frames=[0,70]",
        ],
        "frame 70 is outside the motion",
    ),
    "huge seed": ([*GENERATE, "ckpt={run}", "text=hi", "seed=" + "9" * 30], "seed="),
    "no samples": ([*GENERATE, "ckpt={run}", "text=hi", "num_samples=0"], "num_samples=0"),
    "no steps": ([*GENERATE, "ckpt={run}", "text=hi", "steps=0"], "steps=0"),
    "empty text": ([*GENERATE, "ckpt={run}", "text= "], "text="),
    "prompts not UTF-8": ([*GENERATE, "ckpt={run}", "prompts={root}/latin1.txt"], "latin1.txt"),
    "text file as checkpoint": ([*GENERATE, "ckpt={root}/notes.txt", "text=hi"], "notes.txt"),
    "missing checkpoint": ([*GENERATE, "ckpt={root}/nowhere", "text=hi"], "nowhere"),
    "truncated weights": (
        [*GENERATE, "ckpt={truncated}", "text=hi"],
        "truncated/model.safetensors",
    ),
    "reshaped tensor": (
        [*GENERATE, "ckpt={reshaped}", "text=hi"],
        "input_proj.weight (3, 3) vs (32, 263)",
    ),
    "zero std in the run": ([*GENERATE, "ckpt={zero_std}", "text=hi"], "zero_std/std.npy"),
    "used out_dir": ([*GENERATE, "ckpt={run}", "text=hi", "out_dir={root}/used"], "used"),
    "split id leaves the root": (
        [*TRAIN, "dataset=humanml3d", "dataset.root={traversal}"],
        "'../../outside'",
    ),
    "zero std in the data": (
        [*TRAIN, "dataset=humanml3d", "dataset.root={zero_data_std}"],
        "zero_data_std/Std.npy",
    ),
    "diverging training": ([*TRAIN, "stage.lr=1e30", "paths.data_dir={root}/data"], "at step"),
    "missing dataset root": (
        [
            sys.executable,
            "-m",
            "remodiffuse.build_index",
            "dataset=humanml3d",
            "dataset.root={root}/absent",
            "out_dir={root}/db",
        ],
        "absent",
    ),  # fmt: skip
    "render a missing file": (
        [sys.executable, "-m", "remodiffuse.render", "input={root}/absent.npy", "out={root}/a.mp4"],
        "absent.npy",
    ),  # fmt: skip
    "synthesize a bad count": (
        [sys.executable, "-m", "remodiffuse.synthesize", "out_dir={root}/syn", "num_motions=many"],
        "num_motions='many'",
    ),  # fmt: skip
    "prepare a missing folder": (
        [
            sys.executable,
            "-m",
            "remodiffuse.prepare",
            "input={root}/no_takes",
            "out_dir={root}/prepared",
        ],
        "no_takes",
    ),  # fmt: skip
    "prepare into a folder of user files": (
        [
            sys.executable,
            "-m",
            "remodiffuse.prepare",
            "input={root}/notes.txt",
            "out_dir={root}/used",
        ],
        "used",
    ),  # fmt: skip
    "convert a missing checkpoint": (
        [
            sys.executable,
            "-m",
            "remodiffuse.convert_official",
            "checkpoint={root}/t2m.pth",
            "out_dir={root}/converted",
        ],
        "t2m.pth",
    ),  # fmt: skip
    "evaluate with a missing evaluator": (
        [
            sys.executable,
            "-m",
            "remodiffuse.evaluate",
            "ckpt={run}",
            "evaluator.ckpt={root}/no_evaluator",
            "out_dir={root}/eval",
        ],
        "no_evaluator",
    ),  # fmt: skip
}


def _run(command: list[str], inputs: dict[str, Path], **env: str):
    argv = [part.format(**inputs) for part in command]
    inherited = {name: value for name, value in os.environ.items() if name != "HYDRA_FULL_ERROR"}
    environment = {**inherited, "HF_HUB_OFFLINE": "1", **env}
    return subprocess.run(
        argv, capture_output=True, text=True, cwd=inputs["root"], env=environment, timeout=600
    )


@pytest.mark.parametrize("probe", sorted(PROBES))
def test_bad_input_gets_one_line(probe, inputs):
    command, named = PROBES[probe]
    result = _run(command, inputs)
    assert result.returncode != 0, result.stdout[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr[-3000:]
    assert named.format(**inputs) in errors[0]


def test_nothing_is_written_into_a_used_out_dir(inputs):
    command, _ = PROBES["used out_dir"]
    _run(command, inputs)
    assert [p.name for p in (inputs["root"] / "used").iterdir()] == ["keep.txt"]


def test_full_traceback_on_request(inputs):
    command, _ = PROBES["length not a number"]
    result = _run(command, inputs, HYDRA_FULL_ERROR="1")
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "InputError" in result.stderr
