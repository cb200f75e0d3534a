"""The text model's artefact: weights in one .npz, everything else in a JSON meta file.

No pickles and no dataset text (weights, feature names and figures only). The version is
"eot-text-2+<sha8>" over the arrays' bytes and the canonical meta, so the same training run
gives the same version whatever the zip timestamps. Format 2 holds fine-tuned MiniLM layers
(int8 deltas) and a head; format 1 was a logistic regression.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parent / "data"
WEIGHTS = "text_model.npz"
META = "text_model.json"
BASE_VERSION = "eot-text-2"


@dataclass
class TextModelMeta:
    encoder: str
    lexical_names: list[str]
    frozen: int  # MiniLM layers below the fine-tuned ones
    epochs: int
    learning_rate: float
    seed: int
    data: dict[str, int] = field(default_factory=dict)  # examples per split
    figures: dict[str, float] = field(default_factory=dict)  # dev and frozen-test figures at training time
    notes: list[str] = field(default_factory=list)
    format: int = 2


def digest(arrays: dict[str, np.ndarray], meta: TextModelMeta) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(name.encode() + str(a.dtype).encode() + str(a.shape).encode() + a.tobytes())
    h.update(json.dumps(asdict(meta), sort_keys=True, separators=(",", ":")).encode())
    return h.hexdigest()[:8]


def save(arrays: dict[str, np.ndarray], meta: TextModelMeta, out_dir: Path = DATA_DIR) -> str:
    out_dir.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out_dir / WEIGHTS, **arrays)
    (out_dir / META).write_text(json.dumps(asdict(meta), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return f"{BASE_VERSION}+{digest(arrays, meta)}"


def load(model_dir: Path | None = None) -> tuple[dict[str, np.ndarray], TextModelMeta, str]:
    d = Path(model_dir or DATA_DIR)
    if not (d / WEIGHTS).exists() or not (d / META).exists():
        raise FileNotFoundError(f"no end-of-turn text model in {d}; run `bedside turn train --shared PATH`")
    with np.load(d / WEIGHTS, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    raw = json.loads((d / META).read_text(encoding="utf-8"))
    if raw.get("format") != 2:
        raise ValueError(f"the end-of-turn artefact in {d} is format {raw.get('format')}, this code reads format 2; "
                         "retrain it with `bedside turn train --shared PATH`")
    meta = TextModelMeta(**raw)
    return arrays, meta, f"{BASE_VERSION}+{digest(arrays, meta)}"
