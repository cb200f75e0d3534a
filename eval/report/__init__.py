"""Self-contained HTML reports: per session and per cohort, charts inline as SVG."""
