"""Text to speech for the patient's replies, one sentence at a time.

Replies are spoken sentence by sentence so the first audio leaves early and a
learner who interrupts (barge-in) stops the rest of the reply from being made.
The patient's feelings colour the voice (`prosody`).

Backends (Settings.tts_backend), one module each behind `base.Synthesizer`:
- "pyttsx3" (default, `pyttsx3_backend`): espeak-ng driven through pyttsx3, no network, ~10 ms a sentence.
- "piper" (`piper_backend`): neural voice from the optional, GPL-3.0 `piper` extra; never a
  default dependency, and the only module that imports it.
- "none" (`null_backend`): text-only deployments; every call returns empty audio.
`factory.build_synthesizer` picks one by configuration; `sentences` cuts a reply into what is spoken.
"""
