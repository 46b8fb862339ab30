"""ECOG performance status (Oken MM et al., Am J Clin Oncol 1982;5:649-55).

0 fully active; 1 restricted in strenuous activity, ambulatory, light work; 2 ambulatory,
self-care, unable to work, up > 50% of waking hours; 3 limited self-care, in bed or chair
> 50% of waking hours; 4 completely disabled; 5 dead.

From a Karnofsky score (when only KPS was recorded), the conventional mapping
(Buccheri G et al., Eur J Cancer 1996;32A:1135-41): KPS 100-90 -> 0, 80-70 -> 1,
60-50 -> 2, 40-30 -> 3, 20-10 -> 4, 0 -> 5.
"""

from __future__ import annotations

from .base import StagingResult

ENGINE_VERSION = "ecog-1.0"
SYSTEM = "ECOG"


def ecog(*, grade: int | None = None, karnofsky: int | None = None) -> StagingResult:
    """ECOG grade as recorded, or derived from a Karnofsky score (multiples of 10)."""
    inputs: dict[str, object] = {"grade": grade, "karnofsky": karnofsky}
    if grade is not None:
        if isinstance(grade, bool) or not isinstance(grade, int) or not 0 <= grade <= 5:
            raise ValueError(f"grade: a whole number from 0 to 5 ({grade!r})")
        return StagingResult(SYSTEM, str(grade), inputs, ENGINE_VERSION, reasons=("recorded",))
    if karnofsky is not None:
        if (
            isinstance(karnofsky, bool)
            or not isinstance(karnofsky, int)
            or not 0 <= karnofsky <= 100
            or karnofsky % 10
        ):
            raise ValueError(f"karnofsky: 0 to 100 in steps of 10 ({karnofsky!r})")
        value = 5 if karnofsky == 0 else (100 - karnofsky) // 20
        return StagingResult(
            SYSTEM, str(value), inputs, ENGINE_VERSION, reasons=(f"from Karnofsky {karnofsky}",)
        )
    return StagingResult(SYSTEM, None, inputs, ENGINE_VERSION, missing=("grade",))
