"""The text-to-motion evaluation protocol: items, replicated metrics, the report."""

from remodiffuse.evaluation.items import EvaluationItems, padded
from remodiffuse.evaluation.protocol import (
    METRIC_COLUMNS,
    REAL_ROW,
    EvaluationSettings,
    caption_features,
    caption_rareness,
    check_inputs,
    embed_motions,
    embed_texts,
    evaluate,
    matching_metrics,
    settings_from_options,
)
from remodiffuse.evaluation.report import metrics_markdown, write_results

__all__ = [
    "METRIC_COLUMNS",
    "REAL_ROW",
    "EvaluationItems",
    "EvaluationSettings",
    "caption_features",
    "caption_rareness",
    "check_inputs",
    "embed_motions",
    "embed_texts",
    "evaluate",
    "matching_metrics",
    "metrics_markdown",
    "padded",
    "settings_from_options",
    "write_results",
]
