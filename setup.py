"""Ships the top-level Hydra conf/ inside the wheel as remodiffuse/conf (metadata: pyproject)."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithConfigs(build_py):
    """build_py that also copies conf/ into the built package."""

    def run(self) -> None:
        super().run()
        source = Path(__file__).resolve().parent / "conf"
        shutil.copytree(source, Path(self.build_lib) / "remodiffuse" / "conf", dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildPyWithConfigs})
