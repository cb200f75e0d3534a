"""Colours shared by the charts and the page CSS, so a badge and its bar always match."""

TRUST = "#2563eb"
DISTRESS = "#dc2626"
LEARNER = "#0f766e"
PATIENT = "#94a3b8"
OPEN = "#0f766e"
CLOSED = "#f59e0b"
NONE = "#cbd5e1"
INK = "#0f172a"
MUTED = "#64748b"

EMOTION = {
    "fear": "#7c3aed", "anger": "#b91c1c", "sadness": "#1d4ed8", "frustration": "#ea580c", "shame": "#db2777",
    "guilt": "#9d174d", "overwhelm": "#ca8a04", "loneliness": "#0891b2", "relief": "#16a34a", "calm": "#65a30d",
}
OTHER_EMOTION = "#64748b"


def eccs_colour(level: int | None) -> str:
    """Red for a missed opportunity (0-2), amber for acknowledgement (3), green for pursuit (4-6)."""
    if level is None:
        return NONE
    return "#dc2626" if level <= 2 else "#f59e0b" if level == 3 else "#16a34a"


def care_colour(score: int) -> str:
    """CARE items are 1 (poor) to 5 (excellent)."""
    return "#dc2626" if score <= 2 else "#f59e0b" if score == 3 else "#16a34a"


SERIES = ["#2563eb", "#0f766e", "#db2777", "#ea580c", "#7c3aed", "#0891b2", "#65a30d", "#b91c1c", "#ca8a04",
          "#1e3a8a", "#9d174d", "#475569"]
