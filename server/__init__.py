"""Bedside: a voice-based standardized patient for practising clinical empathy."""

__version__ = "0.1.0"
