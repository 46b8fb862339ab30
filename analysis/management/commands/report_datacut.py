"""``manage.py report_datacut FILE --out report.html [--language zh-hans]``

Writes the self-contained data-cut report (``analysis.report``): CONSORT flow, baseline
characteristics by arm, every dashboard figure and table, the methods text, the cut's
SHA-256 and the code version, in English or Simplified Chinese. The numbers are those of
``analyze_datacut`` on the same file (its result is embedded in the report). Needs no
database. A malformed cut, or one whose data contradict themselves, is refused with exit
status 2, as ``analyze_datacut`` does. No PDF: see the README ("Data-cut report").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from analysis.report import render_report
from domain.analysis import DataCutError, analyze

from .analyze_datacut import EXIT_MALFORMED, shape_problems

LANGUAGES = ("en", "zh-hans")


class Command(BaseCommand):
    help = "Write the self-contained HTML report of a data cut (README, 'Data-cut report')."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="data cut (JSON), e.g. written by export_datacut")
        parser.add_argument("--out", required=True, help="where to write the HTML report")
        parser.add_argument("--language", default="en", choices=LANGUAGES)

    def _fail(self, message: str) -> CommandError:
        return CommandError(f"{self._file}: {message}", returncode=EXIT_MALFORMED)

    def handle(self, *args: Any, **options: Any) -> None:
        self._file = options["file"]
        try:
            raw = Path(self._file).read_bytes()
        except FileNotFoundError as exc:
            raise self._fail("no such file") from exc
        except OSError as exc:
            raise self._fail(f"cannot be read ({exc.strerror})") from exc
        try:
            cut = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise self._fail("not UTF-8 text") from exc
        except json.JSONDecodeError as exc:
            raise self._fail(
                f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
            ) from exc
        problems = shape_problems(cut)
        if problems:
            raise self._fail("malformed data cut: " + "; ".join(problems))
        try:
            result = analyze(cut, strict=True)
        except DataCutError as exc:
            raise self._fail(f"malformed data cut: {exc}") from exc
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise self._fail(f"malformed data cut: {type(exc).__name__}: {exc}") from exc
        with translation.override(options["language"]):
            html = render_report(cut, result, raw=raw, source=Path(self._file).name)
        out = Path(options["out"])
        try:
            out.write_text(html, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"{out}: cannot be written ({exc.strerror})") from exc
        self.stdout.write(f"report written to {out} ({len(html)} characters)")
