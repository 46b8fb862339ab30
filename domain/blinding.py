"""Can a trial be blinded with its interventions? Pure: no Django import.

In a blinded trial, causality of each adverse event is assessed against every study
intervention the patient receives. If the arms receive different interventions, the
number of causality rows of an adverse event (and which treatments are listed) reveals
the arm. So a trial is blindable only when every intervention is given in every arm:
a double-blind comparison is recorded as one intervention "study drug or placebo"
given in all arms.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def arm_specific_interventions(
    arms: Iterable[str], interventions: Mapping[str, Iterable[str]]
) -> list[str]:
    """The names of interventions not given in every arm, sorted (empty: blindable)."""
    every = set(arms)
    return sorted(name for name, given in interventions.items() if set(given) != every)
