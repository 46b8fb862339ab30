"""The CSV bundle: a zip with one CSV per dataset, ``data_dictionary.csv`` and
``README.txt``.

Rows stream from the database (``values_list(...).iterator(chunk_size=...)``) straight
into a zip entry opened for writing, so memory stays flat however large the trial is.
Files are UTF-8 with a byte-order mark (Excel opens Chinese text correctly).
"""

from __future__ import annotations

import datetime
import io
import zipfile
from pathlib import Path
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from domain import csv_safety

from .datasets import DATASETS, Column, Dataset, formatter
from .writing import ExportContext, Progress

ENCODING = "utf-8-sig"
DICTIONARY_HEADER = ["dataset", "column", "label", "type", "allowed_values", "description"]
TYPE_FORMATS = {
    "date": "YYYY-MM-DD",
    "datetime": "YYYY-MM-DDThh:mm:ssZ (UTC)",
    "boolean": "true | false",
}


def count_rows(ctx: ExportContext) -> int:
    return sum(ds.queryset(trial_site_ids=ctx.trial_site_ids).count() for ds in DATASETS)


def _columns(ds: Dataset, ctx: ExportContext) -> list[Column]:
    return ds.columns_for(identities=ctx.identities, allocation=ctx.allocation)


def _open_csv(zf: zipfile.ZipFile, name: str) -> tuple[Any, Any]:
    raw = zf.open(name, "w", force_zip64=True)
    text = io.TextIOWrapper(raw, encoding=ENCODING, newline="", write_through=False)
    return text, csv_safety.writer(text)


def write_dataset(zf: zipfile.ZipFile, ds: Dataset, ctx: ExportContext, progress: Progress) -> int:
    columns = _columns(ds, ctx)
    names = [c.name for c in columns]
    formats = [formatter(c) for c in columns]
    rows: Any = (
        ds.queryset(trial_site_ids=ctx.trial_site_ids)
        .order_by(*ds.order_by)
        .values_list(*[c.source for c in columns])
        .iterator(chunk_size=ctx.chunk_size)
    )
    if ds.masker is not None and not ctx.allocation:
        rows = ds.masker(rows, names)
    count = 0
    text, writer = _open_csv(zf, f"{ds.name}.csv")
    with text:
        writer.writerow(names)
        for row in rows:
            writer.writerow([f(v) for f, v in zip(formats, row, strict=True)])
            count += 1
            progress.tick()
    return count


def write_dictionary(zf: zipfile.ZipFile, ctx: ExportContext) -> None:
    text, writer = _open_csv(zf, "data_dictionary.csv")
    with text:
        writer.writerow(DICTIONARY_HEADER)
        for ds in DATASETS:
            for c in _columns(ds, ctx):
                if c.choices:
                    allowed = " | ".join(f"{code} = {label}" for code, label in c.choices)
                    if c.type == "list":
                        allowed = _("several, separated by “; ”: %(values)s") % {"values": allowed}
                elif c.type == "list":
                    allowed = _("several, separated by “; ”")
                else:
                    allowed = TYPE_FORMATS.get(c.type, "")
                description = str(c.description or "")
                if c.identity:
                    description = (
                        description + " " + _("Identity: only in identified exports.")
                    ).strip()
                writer.writerow([ds.name, c.name, str(c.label), c.type, allowed, description])


def write_readme(zf: zipfile.ZipFile, ctx: ExportContext) -> None:
    trial = ctx.trial
    lines = [
        _("Data export: CSV bundle"),
        "",
        _("Trial: %(code)s – %(title)s") % {"code": trial.protocol_code, "title": trial.title},
        _("Export job: %(id)s") % {"id": ctx.job_id},
        _("Data cut-off (UTC): %(time)s")
        % {"time": ctx.cutoff.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")},
        _("Generated (UTC): %(time)s")
        % {"time": timezone.now().astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")},
        _("Requested by: %(user)s") % {"user": ctx.requested_by},
        _("Sites: %(sites)s") % {"sites": ", ".join(ts.site.code for ts in ctx.trial_sites)},
        "",
        _(
            "Identities: pseudonymised. Names, contact details, identity document numbers, "
            "dates of birth (the year is given) and other identifying details are left out; "
            "subjects are identified by their subject id."
        )
        if not ctx.identities
        else _(
            "Identities: INCLUDED. This file contains personal information: keep it "
            "encrypted and delete it when no longer needed."
        ),
        _(
            "Allocation: hidden (blinded trial). Arms are left out and study treatments are "
            "numbered per adverse event."
        )
        if not ctx.allocation
        else _("Allocation: included."),
        "",
        _("Files:"),
    ]
    for ds in DATASETS:
        n = ctx.row_counts.get(ds.name, 0)
        rows = ngettext("%(n)s row", "%(n)s rows", n) % {"n": n}
        lines.append(f"  {ds.name}.csv  {rows} – {ds.description}")
    lines += [
        "  data_dictionary.csv  " + _("every column: label, type, allowed values"),
        "",
        _(
            "Format: UTF-8 CSV (with byte-order mark), comma-separated, first row = column "
            "names. Dates are YYYY-MM-DD; times are UTC (ISO 8601, ending in Z); booleans "
            "are true/false; an empty cell means no value."
        ),
    ]
    with zf.open("README.txt", "w") as raw:
        raw.write(("\n".join(str(line) for line in lines) + "\n").encode("utf-8"))


def write_csv_bundle(path: Path, ctx: ExportContext, progress: Progress) -> int:
    """Write the bundle to ``path``; returns the number of data rows written."""
    total = 0
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for ds in DATASETS:
            n = write_dataset(zf, ds, ctx, progress)
            ctx.row_counts[ds.name] = n
            total += n
        write_dictionary(zf, ctx)
        write_readme(zf, ctx)
    return total
