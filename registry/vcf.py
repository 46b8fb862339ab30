"""Read a VCF into variant rows with vcfpy (no Django): gene and HGVS from the SnpEff
``ANN`` or VEP ``CSQ`` annotation (or plain ``GENE`` / ``HGVSC`` / ``HGVSP`` INFO keys),
VAF from the first sample's ``AF`` or ``AD``. Records without a gene are reported, not
guessed."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from typing import Any

import vcfpy

MAX_RECORDS = 20000


class VcfError(ValueError):
    pass


@dataclass
class ParsedVcf:
    variants: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "record 12 (chr1:100): no gene"


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _csq_keys(header: vcfpy.Header) -> list[str]:
    if "CSQ" not in header.info_ids():
        return []
    info = header.get_info_field_info("CSQ")
    desc = info.description or ""
    return desc.split("Format: ")[-1].strip('" ').split("|") if "Format:" in desc else []


def _annotation(record: vcfpy.Record, alt: str, csq_keys: list[str]) -> dict[str, str]:
    ann = record.INFO.get("ANN")
    if ann:
        for entry in ann if isinstance(ann, list) else [ann]:
            parts = entry.split("|")
            if len(parts) > 10 and parts[0] in (alt, ""):
                return {"gene": parts[3], "hgvs_c": parts[9], "hgvs_p": parts[10]}
    csq = record.INFO.get("CSQ")
    if csq and csq_keys:
        for entry in csq if isinstance(csq, list) else [csq]:
            values = dict(zip(csq_keys, entry.split("|"), strict=False))
            gene = values.get("SYMBOL", "")
            if gene:
                return {
                    "gene": gene,
                    "hgvs_c": values.get("HGVSc", "").split(":")[-1],
                    "hgvs_p": values.get("HGVSp", "").split(":")[-1],
                }
    return {
        "gene": str(_first(record.INFO.get("GENE")) or ""),
        "hgvs_c": str(_first(record.INFO.get("HGVSC")) or ""),
        "hgvs_p": str(_first(record.INFO.get("HGVSP")) or ""),
    }


def _vaf(record: vcfpy.Record, index: int) -> float | None:
    if not record.calls:
        af = record.INFO.get("AF")
        af = af[index] if isinstance(af, list) and len(af) > index else af
        return float(af) if isinstance(af, int | float) else None
    data = record.calls[0].data
    af = data.get("AF")
    if isinstance(af, list) and len(af) > index and af[index] is not None:
        return float(af[index])
    if isinstance(af, int | float):
        return float(af)
    ad = data.get("AD")
    if isinstance(ad, list) and len(ad) > index + 1 and all(isinstance(x, int) for x in ad):
        total = sum(ad)
        return round(ad[index + 1] / total, 4) if total else None
    return None


def parse_vcf(content: bytes) -> ParsedVcf:
    """Variants of a (plain-text) VCF; a file that is not a VCF is a VcfError."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise VcfError(
            "the file is not UTF-8 text (compressed VCF files are not accepted)"
        ) from exc
    if not text.startswith("##fileformat=VCF"):
        raise VcfError("the file does not start with ##fileformat=VCF")
    parsed = ParsedVcf()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # vcfpy warns about incomplete header lines
        return _read(text, parsed)


def _read(text: str, parsed: ParsedVcf) -> ParsedVcf:
    try:
        reader = vcfpy.Reader.from_stream(io.StringIO(text))
        csq_keys = _csq_keys(reader.header)
        for number, record in enumerate(reader, start=1):
            if number > MAX_RECORDS:
                raise VcfError(f"more than {MAX_RECORDS} records")
            for index, alt in enumerate(record.ALT):
                alt_value = getattr(alt, "value", str(alt))
                ann = _annotation(record, alt_value, csq_keys)
                where = f"record {number} ({record.CHROM}:{record.POS})"
                if not ann["gene"]:
                    parsed.problems.append(f"{where}: no gene annotation, skipped")
                    continue
                vaf = _vaf(record, index)
                if vaf is not None and not 0 <= vaf <= 1:
                    parsed.problems.append(f"{where}: allele fraction {vaf} out of 0-1, dropped")
                    vaf = None
                parsed.variants.append(
                    {
                        "gene": ann["gene"][:30],
                        "hgvs_c": ann["hgvs_c"][:200],
                        "hgvs_p": ann["hgvs_p"][:200],
                        "vaf": vaf,
                        "chrom": str(record.CHROM)[:30],
                        "position": int(record.POS),
                        "ref": str(record.REF)[:200],
                        "alt": str(alt_value)[:200],
                    }
                )
    except VcfError:
        raise
    except Exception as exc:  # vcfpy raises several types for malformed input
        raise VcfError(f"malformed VCF: {exc}") from exc
    return parsed
