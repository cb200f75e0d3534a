"""Bedside evaluation: reports, exports, re-grading and rater agreement for stored
sessions (`bedside eval ...`), and simulated cohorts (`bedside simulate`).
See docs/evaluation.md."""
