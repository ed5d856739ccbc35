"""Generation entry point: `python -m remodiffuse.generate ckpt=... text="..." length=...`."""

import hydra
from hydra.utils import to_absolute_path
from omegaconf import DictConfig

from remodiffuse.configs import config_dir
from remodiffuse.export.generated import save_generated
from remodiffuse.pipeline import MotionGenerator, read_prompts


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="generate")
def main(cfg: DictConfig) -> None:
    """Generate num_samples motions per prompt and write them to out_dir."""
    if (cfg.text is None) == (cfg.prompts is None):
        raise ValueError("give exactly one of text=... or prompts=FILE")
    prompts = (
        [(cfg.text, cfg.length)]
        if cfg.text is not None
        else read_prompts(to_absolute_path(cfg.prompts), cfg.length)
    )
    generator = MotionGenerator.from_options(cfg)
    texts = [text for text, _ in prompts for _ in range(cfg.num_samples)]
    lengths = [length for _, length in prompts for _ in range(cfg.num_samples)]
    motions = generator.generate(texts, lengths, seed=cfg.seed, steps=cfg.steps)
    dataset = generator.config["dataset"]
    for path in save_generated(
        motions, to_absolute_path(cfg.out_dir), dataset["skeleton"], dataset["fps"], cfg.render
    ):
        print(path)


if __name__ == "__main__":
    main()
