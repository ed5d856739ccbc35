"""Samplers over x0 predictions: DDPM (ancestral), DDIM (released test sampler), DPM-Solver++."""

from remodiffuse.diffusion.samplers.base import Sampler, Spacing
from remodiffuse.diffusion.samplers.ddim import DDIMSampler
from remodiffuse.diffusion.samplers.ddpm import DDPMSampler
from remodiffuse.diffusion.samplers.dpm_solver import DPMSolverPlusPlusSampler

SAMPLERS: dict[str, type[Sampler]] = {
    "ddpm": DDPMSampler,
    "ddim": DDIMSampler,
    "dpm_solver++": DPMSolverPlusPlusSampler,
}

__all__ = [
    "SAMPLERS",
    "DDIMSampler",
    "DDPMSampler",
    "DPMSolverPlusPlusSampler",
    "Sampler",
    "Spacing",
]
