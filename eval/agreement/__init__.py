"""How well a grader agrees with human raters (and raters with each other)."""
