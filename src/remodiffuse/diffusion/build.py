"""Diffusion and sampler objects from the conf/diffusion config."""

from collections.abc import Mapping
from typing import Any

from remodiffuse.diffusion.samplers import SAMPLERS, Sampler, Spacing
from remodiffuse.diffusion.schedule import GaussianDiffusion
from remodiffuse.errors import InputError

SAMPLER_OPTIONS: dict[str, tuple[str, ...]] = {
    "ddpm": ("variance",),
    "ddim": ("eta",),
    "dpm_solver++": (),
}


def build_diffusion(cfg: Mapping[str, Any]) -> GaussianDiffusion:
    """GaussianDiffusion from num_timesteps, beta_start, beta_end, beta_schedule."""
    return GaussianDiffusion(
        num_timesteps=cfg["num_timesteps"],
        beta_start=cfg["beta_start"],
        beta_end=cfg["beta_end"],
        beta_schedule=cfg.get("beta_schedule", "linear"),
    )


def build_sampler(
    cfg: Mapping[str, Any],
    diffusion: GaussianDiffusion,
    steps: Spacing | None = None,
    name: str | None = None,
) -> Sampler:
    """cfg.sampler (or `name`) on cfg.respacing (or `steps`), with its options from cfg."""
    name = name or cfg["sampler"]
    if name not in SAMPLERS:
        raise InputError(f"unknown sampler {name!r}; choose one of {sorted(SAMPLERS)}")
    options = {key: cfg[key] for key in SAMPLER_OPTIONS[name] if cfg.get(key) is not None}
    return SAMPLERS[name](diffusion, steps if steps is not None else cfg["respacing"], **options)
