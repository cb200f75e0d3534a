"""Turn a CTranslate2 Whisper model directory into an openai-whisper checkpoint.

No registry ships openai-whisper `.pt` files and nothing may download them at run time, so
the openai-whisper backend is fed the very weights faster-whisper uses. We read CT2's
`model.bin` ourselves (plain numpy, no ctranslate2 import) and rename the tensors.

`model.bin` layout (little-endian), as the CT2 loader reads it:
    u32 binary_version
    str spec_name, u32 spec_revision                          (binary_version >= 2)
    u32 n_variables, then per variable:
        str name, u8 rank, u32[rank] shape,
        u8 dtype_id, u32 n_bytes                              (binary_version >= 4)
        | u8 item_size, u32 n_items                           (older: dtype from width)
        raw bytes (C order)
    u32 n_aliases, then (str alias, str target) pairs         (binary_version >= 3)
where `str` is u16 length (counting a trailing NUL) then the bytes, and dtype ids are
0 float32, 1 int8, 2 int16, 3 int32, 4 float16, 5 bfloat16. Quantized weights carry a
sibling `<name>_scale` (int8: one float per output row; int16: one scalar); the float
value is `q / scale`.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16, 5: "bfloat16"}
_LEGACY_WIDTH = {4: np.float32, 2: np.int16, 1: np.int8}  # binary_version < 4 guessed dtype from width
MAX_BINARY_VERSION = 6  # the newest layout we have read the loader for


class Ct2FormatError(ValueError):
    """The file is not a CTranslate2 Whisper model we know how to read."""


@dataclass
class Ct2Model:
    binary_version: int
    spec: str
    revision: int
    variables: dict[str, np.ndarray] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)


class _Reader:
    def __init__(self, data: memoryview):
        self.data, self.pos = data, 0

    def take(self, n: int) -> memoryview:
        if self.pos + n > len(self.data):
            raise Ct2FormatError(f"model.bin ends early (wanted {n} bytes at offset {self.pos})")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def num(self, fmt: str) -> int:
        return struct.unpack("<" + fmt, self.take(struct.calcsize(fmt)))[0]

    def text(self) -> str:
        return bytes(self.take(self.num("H"))).rstrip(b"\0").decode("utf-8")


def _array(raw: memoryview, dtype, shape: tuple[int, ...]) -> np.ndarray:
    if dtype == "bfloat16":  # numpy has no bfloat16: it is the top half of a float32
        halves = np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16
        return halves.view(np.float32).reshape(shape)
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def read_ct2_model(path: Path) -> Ct2Model:
    """Parse `model.bin` into named numpy arrays; aliases are resolved to their targets."""
    blob = memoryview(Path(path).read_bytes())
    r = _Reader(blob)
    version = r.num("I")
    if not 1 <= version <= MAX_BINARY_VERSION:
        raise Ct2FormatError(f"unsupported CTranslate2 binary version {version} in {path}")
    spec, revision = (r.text(), r.num("I")) if version >= 2 else ("", 1)
    model = Ct2Model(version, spec, revision)
    for _ in range(r.num("I")):
        name = r.text()
        shape = tuple(r.num("I") for _ in range(r.num("B")))
        if version >= 4:
            type_id = r.num("B")
            if type_id not in _DTYPES:
                raise Ct2FormatError(f"variable {name}: unknown dtype id {type_id}")
            dtype, n_bytes = _DTYPES[type_id], r.num("I")
        else:
            width = r.num("B")
            dtype, n_bytes = _LEGACY_WIDTH[width], r.num("I") * width
        model.variables[name] = _array(r.take(n_bytes), dtype, shape)
    if version >= 3:
        for _ in range(r.num("I")):
            alias, target = r.text(), r.text()
            model.aliases[alias] = target
            for suffix in ("", "_scale", "_zero"):  # an alias shares its target's scale too
                if target + suffix in model.variables:
                    model.variables[alias + suffix] = model.variables[target + suffix]
    return model


def _float_weights(variables: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Dequantize int8/int16 weights with their `_scale`; leave float tensors as they are."""
    out = {}
    for name, value in variables.items():
        if name.endswith(("_scale", "_zero")):
            continue
        if f"{name}_zero" in variables:
            raise Ct2FormatError(f"{name} uses AWQ quantization, which this converter does not undo")
        scale = variables.get(f"{name}_scale")
        if scale is not None and value.dtype in (np.int8, np.int16):
            q = value.astype(np.float32)
            s = scale.astype(np.float32)
            value = q / (s.reshape((-1,) + (1,) * (q.ndim - 1)) if s.ndim else s)
        out[name] = value
    return out


def _scalar(variables: dict, name: str) -> int | None:
    v = variables.get(name)
    return int(v.reshape(-1)[0]) if v is not None and v.size == 1 else None


def _count_layers(variables: dict, side: str) -> int:
    n = 0
    while f"{side}/layer_{n}/ffn/linear_0/weight" in variables:
        n += 1
    return n


def infer_dims(variables: dict[str, np.ndarray], config: dict | None = None) -> dict[str, int]:
    """ModelDimensions from tensor shapes; head counts from the stored scalars (or config)."""
    config = config or {}
    conv1 = variables["encoder/conv1/weight"]  # (state, n_mels, 3)
    audio_pos = variables["encoder/position_encodings/encodings"]
    text_emb = variables["decoder/embeddings/weight"]
    text_pos = variables["decoder/position_encodings/encodings"]

    def heads(side: str, width: int) -> int:
        n = _scalar(variables, f"{side}/num_heads") or config.get(f"{side}_num_heads") or config.get("num_heads")
        return int(n) if n else max(1, width // 64)  # every released Whisper uses 64-wide heads

    dims = {
        "n_mels": int(conv1.shape[1]),
        "n_audio_ctx": int(audio_pos.shape[0]),
        "n_audio_state": int(audio_pos.shape[1]),
        "n_audio_head": heads("encoder", int(audio_pos.shape[1])),
        "n_audio_layer": _count_layers(variables, "encoder"),
        "n_vocab": int(text_emb.shape[0]),
        "n_text_ctx": int(text_pos.shape[0]),
        "n_text_state": int(text_emb.shape[1]),
        "n_text_head": heads("decoder", int(text_emb.shape[1])),
        "n_text_layer": _count_layers(variables, "decoder"),
    }
    if dims["n_audio_state"] % dims["n_audio_head"] or dims["n_text_state"] % dims["n_text_head"]:
        raise Ct2FormatError(f"head count does not divide the model width: {dims}")
    return dims


class _Mapper:
    """Collects openai-whisper tensors; CT2 names → whisper/model.py names."""

    def __init__(self, w: dict[str, np.ndarray]):
        self.w, self.sd, self.used = w, {}, set()

    def get(self, name: str) -> np.ndarray:
        if name not in self.w:
            raise Ct2FormatError(f"missing variable {name}")
        self.used.add(name)
        return self.w[name]

    def put(self, name: str, value: np.ndarray) -> None:
        self.sd[name] = value

    def linear(self, dst: str, src: str, bias: bool = True) -> None:
        self.put(f"{dst}.weight", self.get(f"{src}/weight"))
        if bias:
            self.put(f"{dst}.bias", self.get(f"{src}/bias"))

    def norm(self, dst: str, src: str) -> None:
        self.put(f"{dst}.weight", self.get(f"{src}/gamma"))
        self.put(f"{dst}.bias", self.get(f"{src}/beta"))

    def split_linear(self, dst: str, src: str, parts: list[str]) -> None:
        """Undo CT2's fused projections (q|k|v or k|v, stacked on the output axis).

        openai-whisper's key has no bias; CT2 stores zeros there. A key bias would only add
        a per-query constant to every attention logit, which softmax ignores, so dropping
        it is exact either way.
        """
        weights = np.split(self.get(f"{src}/weight"), len(parts), axis=0)
        biases = np.split(self.get(f"{src}/bias"), len(parts), axis=0) if f"{src}/bias" in self.w else None
        if biases is not None:
            self.used.add(f"{src}/bias")
        for i, part in enumerate(parts):
            self.put(f"{dst}.{part}.weight", weights[i])
            if part != "key":
                self.put(f"{dst}.{part}.bias", biases[i] if biases is not None else np.zeros(weights[i].shape[0], weights[i].dtype))

    def block(self, dst: str, src: str, cross: bool) -> None:
        self.split_linear(f"{dst}.attn", f"{src}/self_attention/linear_0", ["query", "key", "value"])
        self.linear(f"{dst}.attn.out", f"{src}/self_attention/linear_1")
        self.norm(f"{dst}.attn_ln", f"{src}/self_attention/layer_norm")
        if cross:
            self.linear(f"{dst}.cross_attn.query", f"{src}/attention/linear_0")
            self.split_linear(f"{dst}.cross_attn", f"{src}/attention/linear_1", ["key", "value"])
            self.linear(f"{dst}.cross_attn.out", f"{src}/attention/linear_2")
            self.norm(f"{dst}.cross_attn_ln", f"{src}/attention/layer_norm")
        self.linear(f"{dst}.mlp.0", f"{src}/ffn/linear_0")
        self.linear(f"{dst}.mlp.2", f"{src}/ffn/linear_1")
        self.norm(f"{dst}.mlp_ln", f"{src}/ffn/layer_norm")


def map_state_dict(w: dict[str, np.ndarray], dims: dict[str, int]) -> dict[str, np.ndarray]:
    m = _Mapper(w)
    m.linear("encoder.conv1", "encoder/conv1")
    m.linear("encoder.conv2", "encoder/conv2")
    m.put("encoder.positional_embedding", m.get("encoder/position_encodings/encodings"))
    for i in range(dims["n_audio_layer"]):
        m.block(f"encoder.blocks.{i}", f"encoder/layer_{i}", cross=False)
    m.norm("encoder.ln_post", "encoder/layer_norm")

    m.put("decoder.token_embedding.weight", m.get("decoder/embeddings/weight"))
    m.put("decoder.positional_embedding", m.get("decoder/position_encodings/encodings"))
    for i in range(dims["n_text_layer"]):
        m.block(f"decoder.blocks.{i}", f"decoder/layer_{i}", cross=True)
    m.norm("decoder.ln", "decoder/layer_norm")

    # openai-whisper reuses the token embedding as the output layer; check CT2 agrees.
    proj = w.get("decoder/projection/weight")
    if proj is not None:
        m.used.add("decoder/projection/weight")
        emb = w["decoder/embeddings/weight"]
        if proj is not emb and not np.allclose(proj.astype(np.float32), emb.astype(np.float32), atol=1e-2):
            raise Ct2FormatError("decoder projection differs from the token embedding; openai-whisper cannot hold it")
    bias = w.get("decoder/projection/bias")
    if bias is not None:
        m.used.add("decoder/projection/bias")
        if np.any(bias):
            raise Ct2FormatError("decoder projection has a bias; openai-whisper cannot hold it")

    leftover = [k for k, v in w.items() if k not in m.used and v.size > 1 and v.dtype.kind == "f"]
    if leftover:
        raise Ct2FormatError(f"tensors with no openai-whisper counterpart: {sorted(leftover)[:8]}")
    return m.sd


def convert_ct2_to_openai_whisper(src_dir: Path, out_path: Path, *, dtype: str | None = None) -> Path:
    """Write `{"dims", "model_state_dict"}` (plus `alignment_heads`) for `whisper.load_model`.

    dtype: "float16" or "float32"; by default float16 when the source is float16 (like the
    official checkpoints), else float32 so dequantized weights are not rounded twice.
    """
    import torch

    src_dir, out_path = Path(src_dir), Path(out_path)
    model_bin = src_dir / "model.bin"
    if not model_bin.is_file():
        raise FileNotFoundError(f"no CTranslate2 model.bin in {src_dir}; run `bedside models prepare`")
    config_path = src_dir / "config.json"
    config = json.loads(config_path.read_text()) if config_path.is_file() else {}

    ct2 = read_ct2_model(model_bin)
    if ct2.spec and ct2.spec != "WhisperSpec":
        raise Ct2FormatError(f"{model_bin} holds a {ct2.spec}, not a Whisper model")
    weights = _float_weights(ct2.variables)
    dims = infer_dims(weights, config)
    state = map_state_dict(weights, dims)

    if dtype is None:
        all_half = all(v.dtype == np.float16 for v in state.values())
        dtype = "float16" if all_half else "float32"
    torch_dtype = {"float16": torch.float16, "float32": torch.float32}[dtype]
    sd = {k: torch.from_numpy(np.ascontiguousarray(v)).to(torch_dtype) for k, v in state.items()}

    checkpoint = {"dims": dims, "model_state_dict": sd}
    heads = config.get("alignment_heads")
    if heads:  # ignored by whisper.load_model; OpenAIWhisperTranscriber applies it
        checkpoint["alignment_heads"] = [[int(layer), int(head)] for layer, head in heads]

    out_path.parent.mkdir(parents=True, exist_ok=True)
    # Same file name in a private folder: torch names the archive after the file, so the
    # bytes stay reproducible, and os.replace means readers never see a half-written file.
    tmp_dir = out_path.parent / f".convert-{os.getpid()}"
    tmp_dir.mkdir(exist_ok=True)
    try:
        torch.save(checkpoint, tmp_dir / out_path.name)
        os.replace(tmp_dir / out_path.name, out_path)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return out_path
