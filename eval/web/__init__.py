"""The educator page's cohort report and downloads, served by `bedside serve`: the evaluation's
own metrics and exporters behind educator-only HTTP routes, added to the server through the
entry-point group `bedside.api` (server/api/plugins.py)."""
