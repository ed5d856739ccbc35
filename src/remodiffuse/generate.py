"""Generation entry point: `python -m remodiffuse.generate ckpt=... text="..." length=...`."""

import hydra
from hydra.utils import to_absolute_path
from omegaconf import DictConfig

from remodiffuse.cli import one_line_errors
from remodiffuse.configs import config_dir
from remodiffuse.export.generated import GeneratedWriter
from remodiffuse.options import MAX_SEED, whole_number
from remodiffuse.pipeline import MotionGenerator, batches, prompt_list


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="generate")
@one_line_errors
def main(cfg: DictConfig) -> None:
    """Generate num_samples motions per prompt, batch by batch, into a fresh out_dir."""
    prompts_file = None if cfg.prompts is None else to_absolute_path(cfg.prompts)
    prompts = prompt_list(cfg.text, prompts_file, cfg.length)
    num_samples = whole_number("num_samples", cfg.num_samples, 1)
    batch_size = whole_number("batch_size", cfg.batch_size, 1)
    seed = whole_number("seed", cfg.seed, 0, MAX_SEED)
    generator = MotionGenerator.from_options(cfg)
    for prompt in prompts:
        generator.check_length(prompt.length)
    generator.sampler(cfg.steps, cfg.sampler)  # a bad steps= fails before anything is written
    dataset = generator.config["dataset"]
    writer = GeneratedWriter(
        to_absolute_path(cfg.out_dir), dataset["skeleton"], dataset["fps"], cfg.render
    )
    for index, batch in enumerate(batches(prompts, num_samples, batch_size)):
        motions = generator.generate(
            [prompt.text for prompt in batch],
            [prompt.length for prompt in batch],
            seed=seed + index,
            steps=cfg.steps,
            sampler=cfg.sampler,
        )
        for path in writer.write(motions):
            print(path)


if __name__ == "__main__":
    main()
