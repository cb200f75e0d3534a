"""Speech to text behind one small interface, so the session code never cares which engine runs.

Three engines, one module each behind `base.Transcriber`: faster-whisper (CTranslate2,
the default: fastest on CPU; `faster_whisper_backend`), openai-whisper (PyTorch, same weights
converted by `ct2_convert`; `openai_whisper_backend`), and any OpenAI-compatible
`/v1/audio/transcriptions` server (vLLM, a hosted API; `openai_api_backend`). All take 16 kHz
mono float32 (`audio`). `factory.build_transcriber` picks one by configuration.
Upstream VAD decides what is speech; Whisper still invents text on near-silence, so
`hallucination.is_probably_hallucination` is the last check before a turn reaches the dialogue engine.
"""
