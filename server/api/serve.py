"""`bedside serve`: load the engine once, then serve the app with uvicorn."""

from __future__ import annotations

import logging
import sys

import uvicorn

from ..config import Settings
from .educator import announce_token, ensure_educator_token, token_path

log = logging.getLogger("bedside")


def _preload_voice(settings: Settings) -> None:
    """Load ASR, VAD and TTS now, so the first voice session does not wait for them."""
    try:
        from ..speech.asr.factory import build_transcriber
        from ..speech.tts.factory import build_synthesizer
        from ..speech.vad import SileroVAD

        build_transcriber(settings)
        build_synthesizer(settings)
        SileroVAD()
    except Exception as exc:  # text sessions still work without voice
        log.error("voice is unavailable (%s); text sessions still work. Run `make setup` to install the models", exc)


def run_server(settings: Settings) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    token, created = ensure_educator_token(settings)
    if created:  # later starts read the file silently
        announce_token(token, token_path(settings))

    from ..engine.factory import build_engine
    from .app import create_app

    engine = build_engine(settings)
    engine.warm()
    _preload_voice(settings)
    packs, refused = len(engine.registry.packs), len({p.file for p in engine.registry.problems})
    if not packs:
        log.warning("no valid persona packs in %s; learners cannot start sessions", settings.persona_dir)
    app = create_app(settings, engine=engine, educator_token=token)
    try:
        app.state.services.preload_end_of_turn()
    except Exception as exc:  # voice still works: without an acoustic judge the text judge decides alone
        log.error("an end-of-turn judge failed to load (%s); run `make setup` to restore it", exc)
    url = f"http://{settings.host}:{settings.port}/"
    api = f"API docs {url}docs" if settings.api_docs else f"API schema {url}openapi.json"
    print(f"Bedside: {packs} persona(s) loaded, {refused} refused (see the errors above); serving on {url} ({api})",
          flush=True)
    from .shutdown import DrainingServer  # SIGTERM: finish turns in flight, release leases, then exit

    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level="info", ws_max_size=4 * 1024 * 1024)
    try:
        DrainingServer(config, app.state.services).run()
    except KeyboardInterrupt:
        pass
    sys.stdout.flush()
    return 0
