"""Per-trial analysis settings (the statistical analysis plan's choices), read from the
``trial`` block of a data cut with documented defaults so that older cuts still analyse.

Pure Python (no Django). The Trial model stores the same fields; ``trials.selectors``
writes them into every cut, and every result states the settings it was computed with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, cast

TIME_ORIGINS = ("randomization", "first_treatment")
CI_BANDS = ("log-log", "log", "plain")
POPULATIONS = ("itt", "per_protocol", "evaluable")
NYA_HANDLING = ("exclude", "include_as_ne")
SIDEDNESS = ("one-sided", "two-sided")

#: ``plain`` is the statistics module's "linear" (Greenwood, untransformed).
CI_METHOD_OF_BAND = {"log-log": "log-log", "log": "log", "plain": "linear"}


class SettingsError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class AnalysisSettings:
    """``time_origin``: day 0 of PFS/OS/DoR: the randomization date (ITT; the default)
    or the first treatment date (both fall back to the enrollment date when missing).
    ``ci_band``: the pointwise KM band and median CI convention. ``orr_null_rate`` and
    ``orr_sided``: the protocol's null hypothesis for the exact binomial test (no test
    when the rate is None). ``landmark_months``: landmark survival times.
    ``population``: the ORR/DCR denominator: ``itt`` (every randomized patient, those
    without a baseline scan counting NE), ``per_protocol`` (treated patients with a
    baseline scan) or ``evaluable`` (patients with a baseline scan; the default, as
    before these settings existed). ``nya_handling``: a patient without any post-
    baseline scan whose first scan is not yet due (fewer than ``nya_days`` since day 0)
    is "not yet assessable": excluded from an interim denominator and counted apart
    (``exclude``), or counted as NE (``include_as_ne``). ``confirmed_bor_primary``: the
    protocol's primary BOR (confirmed when confirmation is required); both are reported.
    """

    time_origin: str = "randomization"
    ci_band: str = "log-log"
    orr_null_rate: float | None = None
    orr_sided: str = "two-sided"
    landmark_months: tuple[float, ...] = (6.0, 12.0, 24.0)
    population: str = "evaluable"
    nya_handling: str = "exclude"
    nya_days: int = 70
    confirmed_bor_primary: bool = False

    def __post_init__(self) -> None:
        for name, allowed in (
            ("time_origin", TIME_ORIGINS),
            ("ci_band", CI_BANDS),
            ("population", POPULATIONS),
            ("nya_handling", NYA_HANDLING),
            ("orr_sided", SIDEDNESS),
        ):
            if getattr(self, name) not in allowed:
                raise SettingsError(
                    f"trial.{name}: {getattr(self, name)!r} is not one of {', '.join(allowed)}"
                )
        if self.orr_null_rate is not None and not 0 < self.orr_null_rate < 1:
            raise SettingsError("trial.orr_null_rate: must lie strictly between 0 and 1")
        if self.nya_days < 0:
            raise SettingsError("trial.nya_days: must not be negative")
        if any(m <= 0 for m in self.landmark_months):
            raise SettingsError("trial.landmark_months: must be positive numbers")

    @property
    def ci_method(self) -> str:
        return CI_METHOD_OF_BAND[self.ci_band]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["landmark_months"] = list(self.landmark_months)
        return data


def analysis_settings(trial: Mapping[str, Any]) -> AnalysisSettings:
    """Settings from a data cut's ``trial`` block; missing keys take the defaults (an old
    cut: randomization origin, log-log band, evaluable population, NYA excluded, no
    binomial test). The NYA window defaults to the imaging interval plus a 2-week scan
    window when the cut gives one."""
    interval = trial.get("imaging_interval_weeks")
    default_nya = int(interval) * 7 + 14 if isinstance(interval, int) and interval > 0 else 70
    landmarks = trial.get("landmark_months")
    null_rate = trial.get("orr_null_rate")
    try:
        return AnalysisSettings(
            time_origin=str(trial.get("time_origin") or "randomization"),
            ci_band=str(trial.get("ci_band") or "log-log"),
            orr_null_rate=None if null_rate in (None, "") else float(null_rate),
            orr_sided=str(trial.get("orr_sided") or "two-sided"),
            landmark_months=tuple(float(m) for m in landmarks)
            if isinstance(landmarks, list | tuple)
            else (6.0, 12.0, 24.0),
            population=str(trial.get("population") or "evaluable"),
            nya_handling=str(trial.get("nya_handling") or "exclude"),
            nya_days=int(
                cast(Any, trial.get("nya_days"))
                if trial.get("nya_days") is not None
                else default_nya
            ),
            confirmed_bor_primary=bool(trial.get("confirmation_required", False)),
        )
    except (TypeError, ValueError) as exc:
        if isinstance(exc, SettingsError):
            raise
        raise SettingsError(f"trial: analysis settings are malformed ({exc})") from exc
