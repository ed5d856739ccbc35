"""Text-motion evaluators: ReMoDiffuse's contrastive model and Guo et al.'s T2M evaluator."""

from remodiffuse.evaluators.common import (
    EvaluatorFileError,
    MotionTextEvaluator,
    renormalize,
)
from remodiffuse.evaluators.contrastive import (
    ContrastiveConfig,
    ContrastiveEvaluator,
    ContrastiveModel,
    contrastive_loss,
    load_contrastive,
    save_contrastive,
)
from remodiffuse.evaluators.loading import EVALUATOR_KINDS, load_evaluator
from remodiffuse.evaluators.t2m import T2MEvaluator, WordVectorizer, load_t2m, save_t2m_layout

__all__ = [
    "EVALUATOR_KINDS",
    "ContrastiveConfig",
    "ContrastiveEvaluator",
    "ContrastiveModel",
    "EvaluatorFileError",
    "MotionTextEvaluator",
    "T2MEvaluator",
    "WordVectorizer",
    "contrastive_loss",
    "load_contrastive",
    "load_evaluator",
    "load_t2m",
    "renormalize",
    "save_contrastive",
    "save_t2m_layout",
]
