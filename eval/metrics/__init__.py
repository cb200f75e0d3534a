"""Numbers behind the reports: per session (`session.py`) and per cohort (`cohort.py`)."""
