"""One settings object for the server and every command: environment variables
(prefix BEDSIDE_) overridden by CLI flags (see `Settings.with_overrides`)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_serializer, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
# A source checkout keeps its data, packs and web client at its top; an installed package
# (`pip install .`) carries the packs and web client inside itself (server/persona_packs and
# server/web_client, links to the top-level folders in a checkout) and keeps data in ./data.
IN_CHECKOUT = (REPO_ROOT / "pyproject.toml").is_file() and (REPO_ROOT / "persona_packs").is_dir()


def shipped(name: str) -> Path:
    """A folder shipped with Bedside (`persona_packs`, `web_client`): the checkout's own, else the package's copy."""
    return REPO_ROOT / name if IN_CHECKOUT else PACKAGE_DIR / name


def default_data_dir() -> Path:
    return REPO_ROOT / "data" if IN_CHECKOUT else Path.cwd() / "data"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BEDSIDE_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    # browser-facing hardening (README "Configuration")
    api_docs: bool = Field(False, description="Serve /docs (Swagger UI) and /redoc (ReDoc) from the packaged copies in "
                           "fastapi-offline, never a CDN. Off by default: fewer pages on the origin that holds the educator "
                           "token. /openapi.json is always served.")
    ws_allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Origins besides the server's own that may open /ws/session (comma-separated, "
        "e.g. https://bedside.example.org); '*' allows any. A request without an Origin header is always allowed.")
    data_dir: Path = Field(default_factory=default_data_dir, description="Database, educator token, model cache, optional "
                           "raw audio. Default: data/ in the checkout, else ./data in the working directory.")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default sqlite:///<data_dir>/bedside.db")
    persona_dir: Path = Field(default_factory=lambda: shipped("persona_packs"), description="Persona packs; default the shipped ones.")
    models_dir: Path = Field(default_factory=lambda: default_data_dir() / "models",
                             description="Prepared model files, shared by every data dir.")
    default_persona: str = "chest-pain-anxiety"
    educator_token: SecretStr | None = Field(None, description="Bearer token for educators; generated at first start if unset.")

    # backend choice per stage
    asr_backend: Literal["faster-whisper", "openai-whisper", "openai"] = "faster-whisper"
    asr_short_context: bool = Field(True, description="faster-whisper: run the encoder on the clip's length, not 30 s "
                                    "(about 4x faster, +1 point WER; eval/bench/bench_asr.py)")
    asr_prompt: str | None = Field(
        "Um, so, uh, and, er, you know.",
        description="faster-whisper: text Whisper reads as if said just before each turn. Written with fillers, it makes "
        "Whisper keep a trailing 'um' or 'and', so the end-of-turn judge sees an unfinished turn (docs/end-of-turn.md); "
        "empty turns it off")
    tts_backend: Literal["pyttsx3", "piper", "openai", "none"] = "pyttsx3"
    realiser: Literal["template", "transformers", "openai"] = "template"
    grader: Literal["rules", "trained", "judge"] = "trained"
    minilm_runtime: Literal["onnx", "torch"] = Field(
        "onnx", description="run a live turn's MiniLM passes (retrieval, the trained grader, the end-of-turn judge) on "
        "ONNX Runtime (about half the time, the same results; docs/grading.md) or in PyTorch")
    embedder: Literal["minilm"] = "minilm"

    # remote engines (OpenAI-compatible)
    openai_base_url: str | None = None
    openai_api_key: SecretStr | None = None
    openai_model: str | None = None
    judge_timeout_s: float = Field(20.0, description="grader=judge: seconds before a turn falls back to the trained grader")
    # one remote server per model (vLLM serves one model a process): ASR and TTS may each have their own
    asr_openai_base_url: str | None = Field(None, description="asr_backend=openai: the transcription server "
                                            "(/v1/audio/transcriptions); default openai_base_url.")
    asr_openai_model: str | None = Field(None, description="asr_backend=openai: model name; default openai_model, "
                                         "else whisper-1.")
    asr_openai_api_key: SecretStr | None = Field(None, description="asr_backend=openai: API key; default openai_api_key.")
    tts_openai_base_url: str | None = Field(None, description="tts_backend=openai: the speech server "
                                            "(/v1/audio/speech); default openai_base_url.")
    tts_openai_model: str = Field("tts-1", description="tts_backend=openai: model name.")
    tts_openai_voice: str = Field("alloy", description="tts_backend=openai: the server's voice name, for every persona.")
    tts_openai_api_key: SecretStr | None = Field(None, description="tts_backend=openai: API key; default openai_api_key.")
    tts_openai_timeout_s: float = Field(15.0, gt=0, description="tts_backend=openai: seconds for one sentence; past "
                                        "it the sentence is shown but not spoken.")

    vad_silence_ms: int = Field(500, ge=100, le=3000, description="Silence that ends a learner's spoken turn.")
    barge_in_ms: int = Field(600, ge=200, le=3000, description="Speech over the patient that interrupts; shorter is a backchannel.")
    turn_detector: Literal["silence", "semantic"] = Field(
        "semantic", description="semantic: the end-of-turn text model reads the early transcript, so a finished turn ends "
        "sooner and a pause mid-sentence waits up to max_pause_ms (docs/end-of-turn.md). silence: a spoken turn ends "
        "after vad_silence_ms of silence")
    max_pause_ms: int = Field(2000, ge=500, le=10000, description="semantic turn detector: the longest pause that does "
                              "not end a turn")
    # model realisers (server/realise/, docs/realisers.md)
    realiser_model: str | None = Field(None, description="transformers realiser: a local Hugging Face model directory or "
                                       ".gguf file; default the bundled SmolLM2-135M-Instruct (prepared by `bedside models prepare`)")
    realiser_max_new_tokens: int = Field(120, ge=8, le=1024, description="Upper bound on generated tokens per reply "
                                         "(the planned text's length bounds it further).")
    realiser_timeout_s: float = Field(30.0, gt=0, description="Whole-reply generation budget; past it the template is used.")
    realiser_connect_timeout_s: float = Field(3.0, gt=0, description="openai realiser: connection time-out.")
    realiser_temperature: float = Field(0.0, ge=0, le=2, description="0 = greedy decoding.")
    realiser_threads: int = Field(1, ge=1, le=64, description="transformers realiser: CPU threads for generation.")
    realiser_openai_base_url: str | None = Field(None, description="openai realiser endpoint; default openai_base_url.")
    realiser_openai_model: str | None = Field(None, description="openai realiser model name; default openai_model.")
    realiser_openai_api_key: SecretStr | None = Field(None, description="openai realiser API key; default openai_api_key.")

    max_text_chars: int = 4000
    # limits on one connection or client address (docs/security.md); 0 turns a limit off
    max_turns_per_minute: int = Field(30, ge=0, description="Text turns per minute on one connection; more get `busy`.")
    audio_max_speed: float = Field(1.5, ge=0, description="Learner audio may arrive at most this many times real time.")
    max_sessions_per_client: int = Field(20, ge=0, description="Sessions open at once from one client address.")
    idle_timeout_s: float = Field(900, ge=0, description="Close a socket that sends nothing for this long.")
    max_session_minutes: float = Field(120, ge=0, description="Turns are refused after a session has run this long on one connection.")
    abandon_after_min: float = Field(120, ge=0, description="A session not ended and with no turn for this many minutes "
                                     "reads as abandoned (derived when read, never stored: its next turn makes it active "
                                     "again); 0 never calls a session abandoned.")
    learner_keys_per_hour: int = Field(300, ge=0, description="Personal keys one client address may create per hour "
                                       "(POST /api/learner-keys); more get 429. A classroom behind one NAT shares an address.")
    store_audio: bool = False
    lease_ttl_s: float = Field(15.0, ge=0.5, le=3600, description="Replicas (docs/scaling.md): how long a session's "
                               "lease outlives its server's last heartbeat (sent every third of this). A resume on "
                               "another replica waits at most this long for a turn left in flight by a replica that died.")

    @field_validator("ws_allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value):
        """The environment gives one string: split it on commas."""
        return [o.strip() for o in value.split(",") if o.strip()] if isinstance(value, str) else value

    @property
    def abandon_after(self) -> timedelta | None:
        """`abandon_after_min` as a duration; None when it is off (0)."""
        return timedelta(minutes=self.abandon_after_min) if self.abandon_after_min else None

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'bedside.db'}"

    @field_serializer("database_url", when_used="json")
    def _hide_database_password(self, value: str | None) -> str | None:
        """A JSON dump (logs, reports) shows the database URL without its password; a Python dump
        keeps it, since `with_overrides` builds the settings again from one."""
        from .redact import redact_url

        return redact_url(value) if value else value

    def __repr_args__(self):
        """repr() and str() show the database URL with its password as *** (SecretStr fields show **********)."""
        from .redact import redact_url

        for name, value in super().__repr_args__():
            yield name, (redact_url(value) if name == "database_url" and value else value)

    def with_overrides(self, **flags) -> "Settings":
        """CLI flags win over the environment; None means 'not given'."""
        given = {k: v for k, v in flags.items() if v is not None}
        return type(self).model_validate({**self.model_dump(), **given}) if given else self


def reveal(secret: SecretStr | str | None) -> str | None:
    """The plain value of a secret setting, for the one place that sends it (a header, a compare).

    Plain strings pass through: `model_copy(update=...)` skips validation, so a test may hold one."""
    return secret.get_secret_value() if isinstance(secret, SecretStr) else secret


def get_settings(**flags) -> Settings:
    return Settings().with_overrides(**flags)
