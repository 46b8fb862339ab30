"""What every staging engine returns: the value, the inputs it used, the engine version."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class StagingResult:
    """``value`` is None when an input is missing (``missing`` names them): a stage is
    never guessed. ``reasons`` says in plain words which rule gave the value."""

    system: str
    value: str | None
    inputs: dict[str, object]
    engine_version: str
    missing: tuple[str, ...] = ()
    components: dict[str, str] = field(default_factory=dict)  # e.g. {"T": "T2", "N": "N0"}
    reasons: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "system": self.system,
            "value": self.value,
            "inputs": self.inputs,
            "engine_version": self.engine_version,
            "missing": list(self.missing),
            "components": self.components,
            "reasons": list(self.reasons),
        }


def number(name: str, value: object, *, minimum: float = 0.0) -> float | None:
    """A non-negative number or None; anything else is a ValueError naming the input."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ValueError(f"{name}: not a number ({value!r})")
    if value < minimum:
        raise ValueError(f"{name}: must be at least {minimum:g} ({value!r})")
    return float(value)


def count(name: str, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name}: a whole number of at least 1 ({value!r})")
    return value


def flag(name: str, value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ValueError(f"{name}: true or false ({value!r})")


def choice(name: str, value: object, allowed: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    if value not in allowed:
        raise ValueError(f"{name}: one of {', '.join(allowed)} ({value!r})")
    return str(value)
