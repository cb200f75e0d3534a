"""Semantic end of turn: is the learner done, or only pausing to think?

- `judge.EndOfTurnModel`: anything that scores a (possibly partial) transcript or clip.
- `text_model.TextEndOfTurnModel`: the textual judge, MiniLM features of the speculative
  transcript and a few tail words, one logistic regression (artefact in `data/`).
- `policy.EndOfTurnPolicy`: the pure rule that turns silence so far and the judges'
  probabilities into "end the turn now" or "keep listening".
- `train` (with `examples`, `logistic`): `bedside turn train` rebuilds the artefact.

Nothing here is wired into the voice channel yet (issue 18).
"""
