"""The built wheel ships the Hydra configs, and the configs load from the installed copy."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from remodiffuse.configs import config_dir

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(REPO_ROOT),
        ],
        check=True,
    )
    (path,) = out.glob("remodiffuse-*.whl")
    return path


def test_wheel_contains_every_config(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        "remodiffuse/conf/" + p.relative_to(config_dir()).as_posix()
        for p in Path(config_dir()).rglob("*.yaml")
    }
    assert "remodiffuse/conf/train.yaml" in expected
    assert expected <= names, sorted(expected - names)


def test_configs_load_from_unpacked_wheel(wheel, tmp_path):
    zipfile.ZipFile(wheel).extractall(tmp_path)
    code = (
        "from hydra import compose, initialize_config_dir\n"
        "from remodiffuse.configs import config_dir\n"
        "with initialize_config_dir(config_dir=config_dir(), version_base='1.3'):\n"
        "    cfg = compose('train', overrides=['experiment=kit'])\n"
        "print(config_dir()); print(cfg.dataset.name)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
    )
    where, dataset = result.stdout.split()
    assert Path(where) == tmp_path / "remodiffuse" / "conf"
    assert dataset == "kit"
