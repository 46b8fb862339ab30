"""Molecular tests, their findings and the VCF upload."""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from audit.context import audit_context
from audit.users import ActingUser

from ..models import CopyNumberChange, Fusion, GenomicTest, RegistryPatient, Variant
from ..vcf import VcfError, parse_vcf
from .clinical import _not_future
from .common import require_registry_perm, save_record

TEST_FIELDS = (
    "tumour",
    "kind",
    "lab",
    "specimen",
    "test_date",
    "genes_covered",
    "panel_size_mb",
    "msi",
    "tmb",
    "pdl1_tps",
    "pdl1_cps",
    "her2",
)
VARIANT_FIELDS = (
    "gene",
    "hgvs_c",
    "hgvs_p",
    "vaf",
    "classification",
    "chrom",
    "position",
    "ref",
    "alt",
)
FUSION_FIELDS = ("gene_5", "gene_3", "breakpoint_5", "breakpoint_3", "in_frame")
CNV_FIELDS = ("gene", "change", "copy_number")
MAX_VCF_BYTES = 20 * 1024 * 1024


def _gene_rules(errors: dict[str, list[str]], field: str, gene: str) -> None:
    if gene and (gene != gene.upper() or " " in gene):
        errors.setdefault(field, []).append(
            _("Use the HGNC symbol in capitals (e.g. FGFR2, IDH1).")
        )


def test_rules(test: GenomicTest) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    _not_future(errors, "test_date", test.test_date)
    tumour = test.tumour if test.tumour_id else None
    if tumour is not None and tumour.patient_id != test.patient_id:
        errors["tumour"] = [_("This tumour belongs to another patient.")]
    if test.tmb is not None and test.kind in (GenomicTest.Kind.PANEL,) and not test.panel_size_mb:
        errors["panel_size_mb"] = [_("A panel TMB needs the panel size it was computed on.")]
    if test.tmb is not None and test.kind in (GenomicTest.Kind.IHC, GenomicTest.Kind.FISH):
        errors["tmb"] = [_("TMB comes from sequencing, not from IHC or FISH.")]
    genes = test.genes_covered
    if not isinstance(genes, list) or not all(isinstance(g, str) for g in genes):
        errors["genes_covered"] = [_("List the genes covered by their HGNC symbols.")]
    return errors


def genomic_test_record(
    *,
    patient: RegistryPatient,
    acting_user: ActingUser,
    test: GenomicTest | None = None,
    reason: str = "",
    source_system: str = "",
    source_id: str = "",
    **fields: Any,
) -> GenomicTest:
    instance = test or GenomicTest(
        patient=patient, source_system=source_system, source_id=source_id
    )
    return save_record(
        instance,
        fields={k: v for k, v in fields.items() if k in TEST_FIELDS},
        site=patient.site,
        acting_user=acting_user,
        reason=reason,
        rules=test_rules,
        created_reason=_("Molecular test recorded"),
    )


def variant_record(
    *,
    test: GenomicTest,
    acting_user: ActingUser,
    variant: Variant | None = None,
    reason: str = "",
    **fields: Any,
) -> Variant:
    def rules(v: Variant) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        _gene_rules(errors, "gene", v.gene)
        if v.hgvs_c and not v.hgvs_c.startswith("c."):
            errors["hgvs_c"] = [_("An HGVS coding change starts with c.")]
        if v.hgvs_p and not v.hgvs_p.startswith("p."):
            errors["hgvs_p"] = [_("An HGVS protein change starts with p.")]
        if not (v.hgvs_c or v.hgvs_p or v.alt):
            errors["hgvs_c"] = [_("Describe the variant (HGVS c. or p.).")]
        return errors

    return save_record(
        variant or Variant(test=test),
        fields={k: v for k, v in fields.items() if k in VARIANT_FIELDS},
        site=test.patient.site,
        acting_user=acting_user,
        rules=rules,
        reason=reason,
        created_reason=_("Variant recorded"),
    )


def fusion_record(
    *,
    test: GenomicTest,
    acting_user: ActingUser,
    fusion: Fusion | None = None,
    reason: str = "",
    **fields: Any,
) -> Fusion:
    def rules(f: Fusion) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        _gene_rules(errors, "gene_5", f.gene_5)
        _gene_rules(errors, "gene_3", f.gene_3)
        if f.gene_5 and f.gene_5 == f.gene_3:
            errors["gene_3"] = [_("A fusion joins two different genes.")]
        return errors

    return save_record(
        fusion or Fusion(test=test),
        fields={k: v for k, v in fields.items() if k in FUSION_FIELDS},
        site=test.patient.site,
        acting_user=acting_user,
        rules=rules,
        reason=reason,
        created_reason=_("Fusion recorded"),
    )


def copy_number_record(
    *,
    test: GenomicTest,
    acting_user: ActingUser,
    cnv: CopyNumberChange | None = None,
    reason: str = "",
    **fields: Any,
) -> CopyNumberChange:
    def rules(c: CopyNumberChange) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        _gene_rules(errors, "gene", c.gene)
        return errors

    return save_record(
        cnv or CopyNumberChange(test=test),
        fields={k: v for k, v in fields.items() if k in CNV_FIELDS},
        site=test.patient.site,
        acting_user=acting_user,
        rules=rules,
        reason=reason,
        created_reason=_("Copy-number change recorded"),
    )


def vcf_attach(
    *, test: GenomicTest, content: bytes, filename: str, acting_user: ActingUser
) -> tuple[list[Variant], list[str]]:
    """Keep the VCF on the test and read its variants (a test has one VCF; a second
    upload is refused so variants are never counted twice). Returns the variants and the
    records the parser skipped, with why."""
    require_registry_perm(acting_user, test.patient.site)
    if test.vcf_file:
        raise ValidationError({"vcf_file": [_("This test already has a VCF file.")]})
    if len(content) > MAX_VCF_BYTES:
        raise ValidationError({"vcf_file": [_("The VCF is larger than 20 MB.")]})
    try:
        parsed = parse_vcf(content)
    except VcfError as exc:
        raise ValidationError(
            {"vcf_file": [_("This file cannot be read as a VCF: %(error)s") % {"error": exc}]}
        ) from exc
    if not parsed.variants:
        raise ValidationError({"vcf_file": [_("The VCF has no annotated variant.")]})
    with transaction.atomic(), audit_context(user=acting_user, reason=_("VCF uploaded")):
        test.vcf_sha256 = hashlib.sha256(content).hexdigest()
        test.vcf_file.save(
            filename.rsplit("/", 1)[-1][:100] or "upload.vcf", ContentFile(content), save=False
        )
        test.save()
        variants = bulk_create_with_history(
            [Variant(test=test, from_vcf=True, **row) for row in parsed.variants],
            Variant,
            batch_size=500,
            default_user=acting_user,
            default_change_reason=_("VCF uploaded"),
        )
    return variants, parsed.problems
