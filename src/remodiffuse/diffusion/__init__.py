"""Everything about noise: the x0-prediction Gaussian diffusion, respacing, samplers, mixture.

Networks never appear here: samplers see x0 predictions, `sample_loop` a denoise function and
`ConditionMixture` a batched model call.
"""

from remodiffuse.diffusion.build import build_diffusion, build_sampler
from remodiffuse.diffusion.constraints import X0Constraint, constrained, known_frames
from remodiffuse.diffusion.loop import DenoiseFn, mixture_denoise_fn, sample_loop
from remodiffuse.diffusion.mixture import (
    BRANCHES,
    RELEASED_PRESETS,
    RETRIEVAL_ON,
    TEXT_ON,
    ConditionMixture,
    ModelCall,
    PaperMixture,
    ReleasedMixture,
    ReleasedPreset,
    mix_branches,
    released_preset,
)
from remodiffuse.diffusion.mixture_files import (
    MIXTURE_FILENAME,
    build_mixture,
    load_mixture_yaml,
    mixture_for,
    save_mixture_yaml,
)
from remodiffuse.diffusion.respacing import respaced_alphas_cumprod, respaced_timesteps
from remodiffuse.diffusion.samplers import (
    SAMPLERS,
    DDIMSampler,
    DDPMSampler,
    DPMSolverPlusPlusSampler,
    Sampler,
)
from remodiffuse.diffusion.schedule import GaussianDiffusion, linear_betas
from remodiffuse.diffusion.smoothing import check_sigma, smooth_in_time
from remodiffuse.diffusion.windows import Window, check_windows, fused

__all__ = [
    "BRANCHES",
    "MIXTURE_FILENAME",
    "RELEASED_PRESETS",
    "RETRIEVAL_ON",
    "SAMPLERS",
    "TEXT_ON",
    "Window",
    "X0Constraint",
    "ConditionMixture",
    "DDIMSampler",
    "DDPMSampler",
    "DPMSolverPlusPlusSampler",
    "DenoiseFn",
    "GaussianDiffusion",
    "ModelCall",
    "PaperMixture",
    "ReleasedMixture",
    "ReleasedPreset",
    "Sampler",
    "build_diffusion",
    "build_mixture",
    "build_sampler",
    "check_sigma",
    "check_windows",
    "constrained",
    "fused",
    "known_frames",
    "linear_betas",
    "mix_branches",
    "mixture_denoise_fn",
    "load_mixture_yaml",
    "mixture_for",
    "released_preset",
    "respaced_alphas_cumprod",
    "respaced_timesteps",
    "sample_loop",
    "save_mixture_yaml",
    "smooth_in_time",
]
