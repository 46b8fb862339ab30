"""Small helpers shared by the statistics modules: plain-float conversion, argument
checks, confidence labels and the p-value format."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------


def _num(value: Any) -> float | None:
    """Return ``value`` as a plain finite float, or None if missing, NaN or infinite."""
    if value is None:
        return None
    result = float(value)
    if not math.isfinite(result):
        return None
    return result


def _check_confidence(confidence: float) -> float:
    """Validate a confidence level strictly between 0 and 1 and return it as float."""
    confidence = float(confidence)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence!r}")
    return confidence


def _pct_label(confidence: float) -> str:
    """Format a confidence level for method strings: 0.95 -> '95%'."""
    return f"{confidence * 100:g}%"


def _check_count(name: str, value: int) -> int:
    """Validate a non-negative integer count (bool is rejected)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return int(value)


def format_p_value(p_value: float | None, digits: int = 3) -> str:
    """Format a p-value for display: 'p = 0.600', 'p < 0.001', or 'p not estimable'.

    Presentation helper so that the dashboard and the command-line report round the
    same way; the stored numbers stay at full precision.
    """
    if p_value is None or not math.isfinite(p_value):
        return "p not estimable"
    threshold = 10.0**-digits
    if p_value < threshold:
        return f"p < {threshold:.{digits}f}"
    return f"p = {p_value:.{digits}f}"
