"""The wheel ships the demo page and its vendored three.js."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from remodiffuse.serve.server import STATIC_DIR

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_contains_every_static_file(tmp_path):
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    subprocess.run([*command, "-w", str(tmp_path), str(REPO_ROOT)], check=True)
    (wheel,) = tmp_path.glob("remodiffuse-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    package_dir = STATIC_DIR.parents[1]
    expected = {
        "remodiffuse/" + path.relative_to(package_dir).as_posix()
        for path in STATIC_DIR.rglob("*")
        if path.is_file()
    }
    assert "remodiffuse/serve/static/vendor/three/build/three.core.js" in expected
    assert expected <= names, sorted(expected - names)
