"""``manage.py export_datacut <protocol_code> --out FILE [--cutoff YYYY-MM-DD]``

Writes a frozen data cut in the documented format (README, "Data cuts"): the trial's
settings, arms and sites, then every enrolled patient (pseudonymous subject id, site,
arm, dates, lesions and assessments with their measurements or recorded responses,
death and last-known-alive dates). Patients are streamed to the file in chunks, so memory
stays flat on large trials. Patients enrolled after the cut-off are left out. The file is written under a temporary name and renamed at
the end, so an interrupted export never leaves a truncated cut behind.

``manage.py analyze_datacut FILE`` computes the dashboard's statistics from it.
"""

from __future__ import annotations

import datetime
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from analysis.datacut import datacut_lock, iter_patient_records, trial_header
from trials.models import Trial


def _cutoff(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--cutoff {value!r} is not a date (YYYY-MM-DD)") from exc


class Command(BaseCommand):
    help = (
        "Write a documented JSON data cut of a trial (settings, arms, sites, enrolled "
        "patients with lesions, assessments and survival dates) to FILE."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("protocol_code", help="the trial's protocol code, e.g. CRYO-ICC")
        parser.add_argument("--out", required=True, help="file to write (JSON)")
        parser.add_argument(
            "--cutoff",
            help="data cut-off date YYYY-MM-DD (default: today); assessments and events "
            "after it are ignored by the analysis",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        code = options["protocol_code"]
        trial = Trial.objects.filter(protocol_code=code).first()
        if trial is None:
            known = ", ".join(Trial.objects.values_list("protocol_code", flat=True)[:20])
            raise CommandError(
                f"Unknown trial {code!r}." + (f" Known protocol codes: {known}." if known else "")
            )
        cutoff = _cutoff(options["cutoff"]) if options.get("cutoff") else timezone.localdate()
        out = Path(options["out"])
        if out.parent and not out.parent.exists():
            raise CommandError(f"Directory {str(out.parent)!r} does not exist.")

        header = trial_header(trial, cutoff=cutoff)
        header["documentation"] = "README.md, section 'Data cuts' (format hbtrials-datacut)"
        header["lock"] = datacut_lock(trial)
        patients = assessments = skipped = 0
        cutoff_iso = cutoff.isoformat()
        fd, tmp = tempfile.mkstemp(dir=out.parent or ".", prefix=f".{out.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                # The header as a JSON object, its closing brace replaced by the patient list.
                fh.write(json.dumps(header, ensure_ascii=False, indent=1)[:-2])
                fh.write(',\n "patients": [')
                for record in iter_patient_records(trial):
                    if record["enrolled_on"] > cutoff_iso:
                        skipped += 1  # enrolled after the cut-off: not part of this cut
                        continue
                    fh.write("\n  " if patients == 0 else ",\n  ")
                    fh.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
                    patients += 1
                    assessments += len(record["assessments"])
                fh.write("\n ]\n}\n")
            os.replace(tmp, out)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        self.stdout.write(
            self.style.SUCCESS(
                f"Data cut of {trial.protocol_code} (cut-off {cutoff.isoformat()}): "
                f"{patients} enrolled patients, {assessments} tumour assessments, "
                f"{len(header['sites'])} sites, {len(header['arms'])} arms -> {out}"
                + (f" ({skipped} patients enrolled after the cut-off left out)" if skipped else "")
            )
        )
