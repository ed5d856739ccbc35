"""Finding CLIP weights already on this machine (never downloading them) and loading them."""

import os
import zipfile
from pathlib import Path

import open_clip
import torch
from huggingface_hub import constants as hf_constants
from huggingface_hub import try_to_load_from_cache
from open_clip.factory import load_state_dict

from remodiffuse.errors import InputError

_URL_CACHE = Path("~/.cache/clip").expanduser()


class MissingWeightsError(InputError, FileNotFoundError):
    """The requested CLIP weights are not on this machine."""


def resolve_clip_weights(architecture: str, pretrained: str, cache_dir: str | None = None) -> Path:
    """Local file of `pretrained`: an existing file path, or an open_clip tag already cached."""
    path = Path(pretrained).expanduser()
    if path.is_file():
        return path
    if os.sep in pretrained or path.suffix:
        raise MissingWeightsError(
            f"CLIP checkpoint file {path} does not exist.\n"
            + _how_to_provide(architecture, "openai", cache_dir)
        )
    tag = open_clip.get_pretrained_cfg(architecture, pretrained)
    if not tag:
        known = ", ".join(open_clip.list_pretrained_tags_by_model(architecture))
        raise MissingWeightsError(
            f"CLIP weights pretrained={pretrained!r} are not a known open_clip tag for "
            f"{architecture} (known tags: {known}) nor a checkpoint file.\n"
            + _how_to_provide(architecture, "openai", cache_dir)
        )
    candidates = _cached_candidates(tag, cache_dir)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    looked = "".join(f"\n  - {candidate}" for candidate in candidates)
    raise MissingWeightsError(
        f"CLIP weights {architecture} pretrained={pretrained!r} are not cached on this machine "
        f"(looked for:{looked}) and remodiffuse never downloads weights itself.\n"
        + _how_to_provide(architecture, pretrained, cache_dir)
    )


def load_clip_text_weights(model: open_clip.CLIP, path: Path) -> None:
    """Load a checkpoint's text-tower weights into `model` (image tower and logit scale ignored)."""
    state = _read_state_dict(path)
    wanted = [key for key in model.state_dict() if not key.startswith("logit_")]
    missing = [key for key in wanted if key not in state]
    if missing:
        raise ValueError(f"{path} is not a checkpoint of this CLIP architecture: no {missing[:4]}")
    model.load_state_dict({key: state[key] for key in wanted}, strict=False)


def _cached_candidates(tag: dict, cache_dir: str | None) -> list[Path]:
    """Where open_clip stores a tag's weights, Hugging Face cache first (paths may not exist)."""
    candidates = []
    if tag.get("hf_hub"):
        hub_cache = Path(cache_dir or hf_constants.HF_HUB_CACHE)
        repo_id, filename = os.path.split(tag["hf_hub"])
        snapshots = hub_cache / f"models--{repo_id.replace('/', '--')}" / "snapshots" / "<revision>"
        for name in _hub_filenames(filename):
            found = try_to_load_from_cache(repo_id, name, cache_dir=hub_cache)
            candidates.append(Path(found) if isinstance(found, str) else snapshots / name)
    if tag.get("url"):
        candidates.append(Path(cache_dir or _URL_CACHE) / os.path.basename(tag["url"]))
    return candidates


def _hub_filenames(filename: str) -> list[str]:
    """Checkpoint names open_clip tries in a Hub repository, safetensors first."""
    if not filename:
        return ["open_clip_model.safetensors", "open_clip_pytorch_model.bin"]
    stem, suffix = os.path.splitext(filename)
    return [stem + ".safetensors", filename] if suffix in (".bin", ".pth") else [filename]


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Tensors of OpenAI's TorchScript archive or of a torch/safetensors file (weights only)."""
    if _is_torchscript(path):
        return torch.jit.load(str(path), map_location="cpu").state_dict()
    return load_state_dict(str(path), device="cpu", weights_only=True)


def _is_torchscript(path: Path) -> bool:
    """True for a TorchScript archive (a zip holding constants.pkl), like OpenAI's ViT-B-32.pt."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any(name.endswith("constants.pkl") for name in archive.namelist())


def _how_to_provide(architecture: str, pretrained: str, cache_dir: str | None) -> str:
    """Instructions for putting the weights on an offline machine."""
    cache_arg = f", cache_dir={cache_dir!r}" if cache_dir else ""
    caches = cache_dir or f"{hf_constants.HF_HUB_CACHE} and {_URL_CACHE}"
    return (
        "Provide the weights in one of two ways:\n"
        f"  1. on a machine with internet access run\n"
        f"       python -c \"import open_clip; open_clip.create_model('{architecture}', "
        f"pretrained='{pretrained}'{cache_arg})\"\n"
        f"     then copy the cache it fills ({caches}) to the same place on this machine;\n"
        f"  2. or pass a local checkpoint file: text_encoder.pretrained=/path/to/{architecture}.pt "
        "(OpenAI .pt, open_clip .pt/.pth/.bin or .safetensors).\n"
        "(Tests only: text_encoder.allow_random_init=true builds it with random weights.)"
    )
