"""Inference on a trained run: its files, retrieval conditioning of prompts, `MotionGenerator`."""

from remodiffuse.pipeline.generator import GeneratedMotion, KnownMotion, MotionGenerator
from remodiffuse.pipeline.prompt_batch import PromptBatch
from remodiffuse.pipeline.prompts import Prompt, batches, prompt_list, read_prompts
from remodiffuse.pipeline.retrieval_conditions import (
    encode_retrieved,
    prompt_keys,
    query_neighbours,
)
from remodiffuse.pipeline.run_files import (
    DATABASE_DIR,
    load_run,
    load_statistics,
    save_database,
    save_pretrained,
    save_statistics,
)

__all__ = [
    "DATABASE_DIR",
    "GeneratedMotion",
    "KnownMotion",
    "MotionGenerator",
    "Prompt",
    "PromptBatch",
    "batches",
    "prompt_list",
    "encode_retrieved",
    "load_run",
    "load_statistics",
    "prompt_keys",
    "query_neighbours",
    "read_prompts",
    "save_database",
    "save_pretrained",
    "save_statistics",
]
