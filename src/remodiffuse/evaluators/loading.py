"""`load_evaluator`: build the configured evaluator (conf/evaluator/{contrastive,t2m}.yaml)."""

from collections.abc import Mapping
from typing import Any

from remodiffuse.configs import plain_dict
from remodiffuse.errors import InputError
from remodiffuse.evaluators.common import MotionTextEvaluator
from remodiffuse.evaluators.contrastive import load_contrastive
from remodiffuse.evaluators.t2m import load_t2m

EVALUATOR_KINDS = ("contrastive", "t2m")


def load_evaluator(cfg: Mapping[str, Any]) -> MotionTextEvaluator:
    """`kind: contrastive` with `ckpt` (run dir or .ckpt), or `kind: t2m` with `root` (+ paths)."""
    cfg = plain_dict(cfg)
    kind = cfg.get("kind")
    device = cfg.get("device") or "cpu"
    if kind == "contrastive":
        if not cfg.get("ckpt"):
            raise InputError("evaluator.ckpt must name a contrastive run directory or .ckpt")
        return load_contrastive(cfg["ckpt"], device=device)
    if kind == "t2m":
        if not cfg.get("root"):
            raise InputError("evaluator.root must name the T2M evaluator directory")
        keys = ("checkpoint", "mean", "std", "glove_dir")
        paths = {key: cfg[key] for key in keys if cfg.get(key)}
        return load_t2m(cfg["root"], device=device, **paths)
    raise InputError(f"evaluator.kind must be one of {EVALUATOR_KINDS}, got {kind!r}")
