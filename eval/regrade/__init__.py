"""Re-run a grader over stored sessions, read-only, and report what would change."""
