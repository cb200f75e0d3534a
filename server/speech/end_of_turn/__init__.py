"""Semantic end of turn: is the learner done, or only pausing to think?

- `judge`: what a textual (`EndOfTurnModel`) and an acoustic (`AcousticEndOfTurnModel`) judge promise.
- `text_model.TextEndOfTurnModel`: the textual judge, MiniLM with its top two layers fine-tuned,
  on the speculative transcript (artefact in `data/`).
- `smart_turn.SmartTurnModel`: the acoustic judge, smart-turn v3 from the pipecat-ai wheel.
- `policy.EndOfTurnPolicy`: the pure rule that turns silence so far and the judges'
  probabilities into "end the turn now" or "keep listening".
- `train` (with `examples`, `features`, `metrics`): `bedside turn train` rebuilds the artefact.

The voice channel uses them through `server/api/endpointing.py`.
"""
