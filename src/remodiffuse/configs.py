"""Where the Hydra configs live: inside the installed wheel, or the repository's top-level conf/."""

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def config_dir() -> str:
    """Absolute path of the Hydra config directory (wheel copy first, then the source tree's)."""
    for candidate in (_PACKAGE_DIR / "conf", _PACKAGE_DIR.parents[1] / "conf"):
        if (candidate / "train.yaml").is_file():
            return str(candidate)
    raise FileNotFoundError(
        f"remodiffuse configs not found: looked for train.yaml in {_PACKAGE_DIR / 'conf'} "
        f"(installed wheel) and {_PACKAGE_DIR.parents[1] / 'conf'} (source checkout)"
    )
