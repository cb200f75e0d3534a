"""Machine-readable results: CSV tables and xAPI statements."""
