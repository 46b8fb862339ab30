"""Interchange exports of a pseudonymised research dataset (README "Interoperability
exports"): plain tables (Parquet + CSV), a cBioPortal study, OMOP CDM 5.4 tables with the
oncology extension, and a FHIR R4 (mCODE-style) bundle.

A library: the governed extract decides who may export which cohort; this package only
writes what ``dataset.collect`` read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from .dataset import Pseudonymiser, ResearchDataset, collect

FORMATS = ("tables", "cbioportal", "omop", "fhir")

__all__ = ["FORMATS", "Pseudonymiser", "ResearchDataset", "collect", "write"]


def write(
    dataset: ResearchDataset,
    directory: Path,
    formats: Iterable[str],
    *,
    study_id: str,
    title: str,
    description: str = "",
) -> list[Path]:
    """Write each format in its subdirectory of ``directory`` (``tables/``,
    ``cbioportal/``, ``omop/``, ``fhir/bundle.json``); the paths written."""
    chosen = list(dict.fromkeys(formats))
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown:
        raise ValueError(f"Unknown export format(s): {', '.join(unknown)}")
    written: list[Path] = []
    if "tables" in chosen:
        from .dataset import write_tables

        written += write_tables(dataset, directory / "tables")
    if "cbioportal" in chosen:
        from .cbioportal import write_study

        written += write_study(
            dataset,
            directory / "cbioportal",
            study_id=study_id,
            name=title,
            description=description or title,
        )
    if "omop" in chosen:
        from . import omop

        written += omop.write_tables(dataset, directory / "omop")
    if "fhir" in chosen:
        from .fhir_export import bundle

        path = directory / "fhir" / "bundle.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        study = {"id": study_id, "title": title, "description": description}
        path.write_text(
            json.dumps(bundle(dataset, study=study), ensure_ascii=False, indent=1),
            encoding="utf-8",
        )
        written.append(path)
    return written
