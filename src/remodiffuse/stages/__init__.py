"""LightningModules of the training stages and the frozen conditions they share."""

from remodiffuse.stages.conditioning import RetrievalConditioner, build_conditioner
from remodiffuse.stages.diffusion_stage import DiffusionStage
from remodiffuse.stages.evaluator_stage import EvaluatorStage
from remodiffuse.stages.finite_loss import FiniteLoss
from remodiffuse.stages.mixture_stage import MixtureStage
from remodiffuse.stages.step_seeding import StepSeeding

__all__ = [
    "DiffusionStage",
    "EvaluatorStage",
    "FiniteLoss",
    "MixtureStage",
    "RetrievalConditioner",
    "StepSeeding",
    "build_conditioner",
]
