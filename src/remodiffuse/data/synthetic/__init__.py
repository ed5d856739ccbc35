"""Built-in synthetic text-motion dataset in the HumanML3D layout (procedural, offline).

Motions are chains of 1-3 action primitives on the HumanML3D 22-joint skeleton (20 fps, metres),
posed by forward kinematics with planted feet, run through the reference feature pipeline, checked
by `remodiffuse.motion.plausibility` and captioned from templates with word/POS tokens.
"""

from remodiffuse.data.synthetic.primitives import PRIMITIVES
from remodiffuse.data.synthetic.sequence import SyntheticMotion, sample_motion
from remodiffuse.data.synthetic.writer import (
    GENERATOR_VERSION,
    ensure_synthetic_dataset,
    generate_synthetic_dataset,
    read_metadata,
)

PRIMITIVE_LABELS = tuple(p.label for p in PRIMITIVES)

__all__ = [
    "GENERATOR_VERSION",
    "PRIMITIVE_LABELS",
    "SyntheticMotion",
    "ensure_synthetic_dataset",
    "generate_synthetic_dataset",
    "read_metadata",
    "sample_motion",
]
