"""Mixture YAML files (written by the finetune stage) and which mixture a run uses."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from remodiffuse.diffusion.mixture import (
    BRANCHES,
    ConditionMixture,
    PaperMixture,
    ReleasedMixture,
    released_preset,
)
from remodiffuse.errors import InputError

MIXTURE_FILENAME = "mixture.yaml"


def save_mixture_yaml(path: str | Path, mixture: PaperMixture) -> Path:
    """Write the paper-form weights as YAML (`coarse`, `fine`, `switch_fraction`); returns path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    content = {
        "form": "paper",
        "branches": list(BRANCHES),
        "coarse": [float(w) for w in mixture.coarse],
        "fine": [float(w) for w in mixture.fine],
        "switch_fraction": mixture.switch_fraction,
    }
    path.write_text(yaml.safe_dump(content, sort_keys=False))
    return path


def load_mixture_yaml(path: str | Path) -> PaperMixture:
    """Read a file written by `save_mixture_yaml` (weights are validated to sum to 1)."""
    path = Path(path)
    content = yaml.safe_load(path.read_text())
    if not isinstance(content, Mapping) or "coarse" not in content or "fine" not in content:
        raise InputError(f"{path}: a mixture file needs 'coarse' and 'fine' weight lists")
    if content.get("form", "paper") != "paper":
        raise InputError(f"{path}: form must be 'paper', got {content['form']!r}")
    if list(content.get("branches", BRANCHES)) != list(BRANCHES):
        raise InputError(f"{path}: branches must be {list(BRANCHES)}, got {content['branches']}")
    try:
        return PaperMixture(content["coarse"], content["fine"], content.get("switch_fraction", 0.8))
    except ValueError as error:
        raise InputError(f"{path}: {error}") from None


def build_mixture(cfg: Mapping[str, Any], dataset_name: str) -> ConditionMixture:
    """Mixture from a conf/mixture config (`form: released` or `form: paper`)."""
    form = cfg.get("form")
    if form == "released":
        preset = released_preset(dataset_name)
        scale = cfg.get("coarse_scale")
        weights = cfg.get("weights")
        return ReleasedMixture(
            preset.coarse_scale if scale is None else scale,
            preset.weights if weights is None else list(weights),
            threshold=cfg.get("threshold", 100),
            seed=cfg.get("seed", 0),
        )
    if form == "paper":
        file, coarse, fine = cfg.get("file"), cfg.get("coarse"), cfg.get("fine")
        if file is not None:
            if coarse is not None or fine is not None:
                raise InputError("mixture=paper: give either file or coarse/fine, not both")
            return load_mixture_yaml(file)
        if coarse is None or fine is None:
            raise InputError(
                "mixture=paper needs mixture.file=<mixture.yaml from the mixture stage> "
                "or both mixture.coarse and mixture.fine ([both, text, retr, none])"
            )
        return PaperMixture(list(coarse), list(fine), cfg.get("switch_fraction", 0.8))
    raise InputError(f"mixture form must be 'released' or 'paper', got {form!r}")


def mixture_for(
    dataset_name: str,
    checkpoint_dir: str | Path | None = None,
    cfg: Mapping[str, Any] | None = None,
) -> ConditionMixture:
    """An explicit config first, else the checkpoint's mixture.yaml, else the released form."""
    if cfg is not None:
        return build_mixture(cfg, dataset_name)
    if checkpoint_dir is not None and (Path(checkpoint_dir) / MIXTURE_FILENAME).is_file():
        return load_mixture_yaml(Path(checkpoint_dir) / MIXTURE_FILENAME)
    return ConditionMixture.released(dataset_name)
