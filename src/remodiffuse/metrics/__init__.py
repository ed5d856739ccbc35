"""Text-to-motion evaluation metrics on evaluator embeddings (numpy; torch tensors are converted).

R-precision and matching score (MM-Dist) in batches of 32, FID (numpy with the reference's scipy
numerics, and a differentiable torch version), Diversity, MultiModality, caption rareness (Eq. 7)
with tail-5% and balanced MM-Dist (Table 6), the mean / 95% interval over replications, and the
bone-length variation of joint motions.
"""

from remodiffuse.metrics.bones import bone_length_variation, bone_lengths
from remodiffuse.metrics.distance import euclidean_distance_matrix, matching_distances
from remodiffuse.metrics.diversity import diversity, draw_pairs, multimodality
from remodiffuse.metrics.fid import activation_statistics, fid, frechet_distance
from remodiffuse.metrics.fid_torch import (
    activation_statistics_torch,
    frechet_distance_torch,
    psd_sqrtm,
)
from remodiffuse.metrics.ranking import TIE_MODES, TieMode, gt_ranks, top_k_matches
from remodiffuse.metrics.rare_mm import balanced_mm_dist, tail_items, tail_mm_dist
from remodiffuse.metrics.rareness import rareness
from remodiffuse.metrics.rprecision import batch_slices, matching_score, r_precision
from remodiffuse.metrics.statistics import metric_statistics

__all__ = [
    "TIE_MODES",
    "TieMode",
    "activation_statistics",
    "activation_statistics_torch",
    "balanced_mm_dist",
    "batch_slices",
    "bone_length_variation",
    "bone_lengths",
    "diversity",
    "draw_pairs",
    "euclidean_distance_matrix",
    "fid",
    "frechet_distance",
    "frechet_distance_torch",
    "gt_ranks",
    "matching_distances",
    "matching_score",
    "metric_statistics",
    "multimodality",
    "psd_sqrtm",
    "r_precision",
    "rareness",
    "tail_items",
    "tail_mm_dist",
    "top_k_matches",
]
