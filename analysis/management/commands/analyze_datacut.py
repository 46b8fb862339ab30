"""``manage.py analyze_datacut FILE [--site CODE]``

Prints, as JSON, the statistics the dashboard shows (``domain.analysis``, the same
engine), computed from a data cut: ours (``export_datacut``) or one written by another
system in the documented format (README, "Data cuts"). Needs no database.

A malformed file is refused with a message naming the problem and exit status 2.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from domain.analysis import DataCutError, analyze

EXIT_MALFORMED = 2


def shape_problems(cut: Any) -> list[str]:
    """Structural problems of a data cut, each naming where it is (first few only).

    The analysis engine checks formats and dates itself; this catches the missing keys and
    wrong types that would otherwise surface as a bare KeyError or TypeError.
    """
    problems: list[str] = []
    if not isinstance(cut, Mapping):
        return ["the file must contain a JSON object (the data cut), not " + type(cut).__name__]
    for key in ("format", "cutoff_date", "patients"):
        if key not in cut:
            problems.append(f"missing key {key!r}")
    for key, kind in (("trial", Mapping), ("arms", list), ("sites", list), ("patients", list)):
        if key in cut and not isinstance(cut[key], kind):
            problems.append(f"{key} must be a {'object' if kind is Mapping else 'list'}")
    for key in ("arms", "sites"):
        for i, item in enumerate(cut.get(key) or [] if isinstance(cut.get(key), list) else []):
            if not isinstance(item, Mapping) or not item.get("code"):
                problems.append(f"{key}[{i}]: an object with a 'code' is required")
    patients = cut.get("patients") if isinstance(cut.get("patients"), list) else []
    for i, p in enumerate(patients):
        where = f"patients[{i}]"
        if not isinstance(p, Mapping):
            problems.append(f"{where}: must be an object")
            continue
        where = f"patient {p.get('subject_id') or where}"
        if not p.get("subject_id"):
            problems.append(f"{where}: subject_id is required")
        for key in ("lesions", "assessments"):
            if key in p and not isinstance(p[key], list):
                problems.append(f"{where}: {key} must be a list")
        for j, les in enumerate(
            p.get("lesions") or [] if isinstance(p.get("lesions"), list) else []
        ):
            if not isinstance(les, Mapping) or not les.get("lesion_id"):
                problems.append(f"{where}.lesions[{j}]: lesion_id is required")
            elif les.get("baseline_mm") is not None and not isinstance(
                les["baseline_mm"], int | float
            ):
                problems.append(f"{where}.lesions[{j}].baseline_mm: must be a number")
        assessments = p.get("assessments") if isinstance(p.get("assessments"), list) else []
        for j, a in enumerate(assessments):
            if not isinstance(a, Mapping):
                problems.append(f"{where}.assessments[{j}]: must be an object")
                continue
            if not a.get("date"):
                problems.append(f"{where}.assessments[{j}]: date is required")
            measurements = a.get("measurements") or []
            if not isinstance(measurements, list):
                problems.append(f"{where}.assessments[{j}].measurements: must be a list")
                continue
            for k, m in enumerate(measurements):
                here = f"{where}.assessments[{j}].measurements[{k}]"
                if not isinstance(m, Mapping) or not m.get("lesion_id"):
                    problems.append(f"{here}: lesion_id is required")
                elif m.get("diameter_mm") is not None and not isinstance(
                    m["diameter_mm"], int | float
                ):
                    problems.append(f"{here}.diameter_mm: must be a number")
        if len(problems) >= 10:
            break
    return problems[:10]


class Command(BaseCommand):
    help = (
        "Print the trial statistics (as on the dashboard) of a data cut file as JSON. "
        "The format is described in the README, section 'Data cuts'."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="data cut (JSON), e.g. written by export_datacut")
        parser.add_argument("--site", help="only this site's patients (site code)")
        parser.add_argument(
            "--blinded",
            action="store_true",
            help="leave out arm-level efficacy, as the dashboard does for blinded roles",
        )

    def _fail(self, message: str) -> CommandError:
        return CommandError(f"{self._file}: {message}", returncode=EXIT_MALFORMED)

    def handle(self, *args: Any, **options: Any) -> None:
        self._file = options["file"]
        try:
            with open(self._file, encoding="utf-8") as fh:
                cut = json.load(fh)
        except FileNotFoundError as exc:
            raise self._fail("no such file") from exc
        except UnicodeDecodeError as exc:
            raise self._fail("not UTF-8 text") from exc
        except json.JSONDecodeError as exc:
            raise self._fail(
                f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
            ) from exc
        except OSError as exc:
            raise self._fail(f"cannot be read ({exc.strerror})") from exc
        except RecursionError as exc:
            raise self._fail("not valid JSON: nested too deeply") from exc

        problems = shape_problems(cut)
        if problems:
            raise self._fail("malformed data cut: " + "; ".join(problems))
        site = options.get("site")
        if site:
            codes = [s["code"] for s in cut.get("sites", [])]
            if site not in codes:
                raise self._fail(
                    f"unknown site {site!r}; the data cut has: {', '.join(codes) or 'no sites'}"
                )
            # As the dashboard: per-site figures and targets of the chosen site only.
            cut = {**cut, "sites": [s for s in cut["sites"] if s["code"] == site]}
        try:
            result = analyze(cut, site=site, arm_level=not options["blinded"], strict=True)
        except DataCutError as exc:
            raise self._fail(f"malformed data cut: {exc}") from exc
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise self._fail(f"malformed data cut: {type(exc).__name__}: {exc}") from exc
        self.stdout.write(json.dumps(result, indent=2, ensure_ascii=False))
