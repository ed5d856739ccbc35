"""Generation entry point: `python -m remodiffuse.generate ckpt=... text="..." length=...`."""

from typing import Any

import hydra
from hydra.utils import to_absolute_path
from omegaconf import DictConfig, ListConfig

from remodiffuse.cli import one_line_errors
from remodiffuse.configs import config_dir
from remodiffuse.errors import InputError
from remodiffuse.export.fbx import blender_executable, bvh_to_fbx
from remodiffuse.export.generated import GeneratedWriter
from remodiffuse.motion import get_skeleton
from remodiffuse.options import MAX_SEED, whole_number
from remodiffuse.pipeline import GeneratedMotion, MotionGenerator, Prompt, batches, prompt_list
from remodiffuse.pipeline.editing import known_motion
from remodiffuse.pipeline.timeline import Segment, plan_windows, read_timeline


def _path(value: str | None) -> str | None:
    return None if value is None else to_absolute_path(value)


def _frame_list(value: Any) -> list[Any] | None:
    """keyframe_frames=[0,60] or keyframe_frames=60 as a list (None when unset)."""
    if value is None:
        return None
    return list(value) if isinstance(value, ListConfig | list | tuple) else [value]


def _write(writer: GeneratedWriter, motions: list[GeneratedMotion], blender: str | None) -> None:
    """Write the motions and print every path; with `blender`, each .bvh also as an .fbx."""
    for path in writer.write(motions):
        print(path)
        if blender is not None and path.suffix == ".bvh":
            print(bvh_to_fbx(path, blender=blender))


def _what_to_generate(
    cfg: DictConfig, generator: MotionGenerator, fps: float
) -> tuple[list[Prompt], list[Segment]]:
    """Prompts of text=/prompts= (checked against the model's lengths), or the segments of
    timeline= or of a text= longer than one window."""
    if cfg.timeline is not None:
        if cfg.text is not None or cfg.prompts is not None:
            raise InputError("give timeline=FILE or text=/prompts=, not both")
        return [], read_timeline(_path(cfg.timeline), fps, generator.min_length)
    prompts = prompt_list(cfg.text, _path(cfg.prompts), cfg.length)
    if cfg.text is not None and prompts[0].length > generator.max_length:
        return [], [Segment(prompts[0].text, 0, prompts[0].length)]
    for prompt in prompts:
        generator.check_length(prompt.length)
    return prompts, []


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="generate")
@one_line_errors
def main(cfg: DictConfig) -> None:
    """Generate num_samples motions per prompt (or per timeline) into a fresh out_dir."""
    num_samples = whole_number("num_samples", cfg.num_samples, 1)
    batch_size = whole_number("batch_size", cfg.batch_size, 1)
    seed = whole_number("seed", cfg.seed, 0, MAX_SEED)
    overlap = whole_number("overlap", cfg.overlap, 0)
    blender = blender_executable() if cfg.fbx else None  # a missing Blender fails early
    generator = MotionGenerator.from_options(cfg)
    dataset = generator.config["dataset"]
    skeleton, fps = get_skeleton(dataset["skeleton"]), dataset["fps"]
    prompts, segments = _what_to_generate(cfg, generator, fps)
    if segments:
        plan_windows(segments, generator.max_length, overlap)  # a bad overlap= fails early
    lengths = {segments[-1].stop} if segments else {prompt.length for prompt in prompts}
    editing = {
        "prefix": _path(cfg.prefix),
        "keyframes": _path(cfg.keyframes),
        "keyframe_frames": _frame_list(cfg.keyframe_frames),
        "edit": cfg.edit,
        "source": _path(cfg.source),
    }
    known = {n: known_motion(n, skeleton, fps, **editing) for n in sorted(lengths)}
    generator.sampler(cfg.steps, cfg.sampler)  # a bad steps= fails before anything is written
    writer = GeneratedWriter(to_absolute_path(cfg.out_dir), skeleton.name, fps, cfg.render)
    options = {"steps": cfg.steps, "sampler": cfg.sampler}
    if segments:
        for sample in range(num_samples):
            motion = generator.generate_timeline(
                segments,
                seed=seed + sample,
                known=known[segments[-1].stop],
                overlap=overlap,
                **options,
            )
            _write(writer, [motion], blender)
        return
    for index, batch in enumerate(batches(prompts, num_samples, batch_size)):
        motions = generator.generate(
            [prompt.text for prompt in batch],
            [prompt.length for prompt in batch],
            seed=seed + index,
            known=[known[prompt.length] for prompt in batch],
            **options,
        )
        _write(writer, motions, blender)


if __name__ == "__main__":
    main()
