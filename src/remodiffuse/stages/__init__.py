"""LightningModules of the training stages and the frozen conditions they share."""

from remodiffuse.stages.conditioning import RetrievalConditioner, build_conditioner
from remodiffuse.stages.diffusion_stage import DiffusionStage

__all__ = ["DiffusionStage", "RetrievalConditioner", "build_conditioner"]
