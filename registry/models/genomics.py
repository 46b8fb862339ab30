"""Molecular tests and their findings; a VCF upload is kept and parsed into variants."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.history import AuditedHistory
from sites.scoping import Scope, ScopedQuerySet

from .base import Sourced, center_queryset


class GenomicTest(Sourced):
    class Kind(models.TextChoices):
        PANEL = "panel", _("Targeted NGS panel")
        WES = "wes", _("Whole-exome sequencing")
        WGS = "wgs", _("Whole-genome sequencing")
        IHC = "ihc", _("Immunohistochemistry")
        FISH = "fish", _("FISH")
        PCR = "pcr", _("PCR")

    class Specimen(models.TextChoices):
        TISSUE = "tissue", _("Tumour tissue")
        CTDNA = "ctdna", _("Plasma (ctDNA)")
        NORMAL = "normal", _("Germline (blood / normal tissue)")

    class Msi(models.TextChoices):
        MSS = "MSS", _("Microsatellite stable")
        MSI_L = "MSI-L", _("MSI-low")
        MSI_H = "MSI-H", _("MSI-high")
        PMMR = "pMMR", _("Mismatch repair proficient (IHC)")
        DMMR = "dMMR", _("Mismatch repair deficient (IHC)")

    class Her2(models.TextChoices):
        IHC0 = "0", _("IHC 0")
        IHC1 = "1+", _("IHC 1+")
        IHC2 = "2+", _("IHC 2+")
        IHC3 = "3+", _("IHC 3+")
        AMPLIFIED = "amplified", _("Amplified (ISH)")

    patient = models.ForeignKey(
        "registry.RegistryPatient", on_delete=models.PROTECT, related_name="genomic_tests"
    )
    tumour = models.ForeignKey(
        "registry.Tumour",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="genomic_tests",
    )
    kind = models.CharField(_("test"), max_length=6, choices=Kind.choices)
    lab = models.CharField(_("laboratory"), max_length=200)
    specimen = models.CharField(_("specimen"), max_length=8, choices=Specimen.choices)
    test_date = models.DateField(_("report date"))
    genes_covered = models.JSONField(_("genes covered"), default=list, blank=True)
    panel_size_mb = models.DecimalField(
        _("panel size (Mb)"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    msi = models.CharField(_("MSI / MMR"), max_length=5, choices=Msi.choices, blank=True)
    tmb = models.DecimalField(
        _("TMB (mutations/Mb)"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    pdl1_tps = models.PositiveSmallIntegerField(
        _("PD-L1 TPS (%)"), null=True, blank=True, validators=[MaxValueValidator(100)]
    )
    pdl1_cps = models.PositiveSmallIntegerField(
        _("PD-L1 CPS"), null=True, blank=True, validators=[MaxValueValidator(100)]
    )
    her2 = models.CharField(_("HER2"), max_length=9, choices=Her2.choices, blank=True)
    vcf_file = models.FileField(_("VCF file"), upload_to="registry/vcf/%Y/%m/", blank=True)
    vcf_sha256 = models.CharField(max_length=64, blank=True, editable=False)

    objects = center_queryset("patient__site").as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["patient", "test_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "source_system", "source_id"],
                condition=~models.Q(source_id=""),
                name="registry_genomictest_source_unique",
            )
        ]
        verbose_name = _("molecular test")
        verbose_name_plural = _("molecular tests")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.test_date}"


class Variant(models.Model):
    class Classification(models.TextChoices):
        PATHOGENIC = "pathogenic", _("Pathogenic")
        LIKELY_PATHOGENIC = "likely_pathogenic", _("Likely pathogenic")
        VUS = "vus", _("Uncertain significance")
        LIKELY_BENIGN = "likely_benign", _("Likely benign")
        BENIGN = "benign", _("Benign")

    test = models.ForeignKey(GenomicTest, on_delete=models.PROTECT, related_name="variants")
    gene = models.CharField(_("gene (HGNC)"), max_length=30)
    hgvs_c = models.CharField(_("HGVS c."), max_length=200, blank=True)
    hgvs_p = models.CharField(_("HGVS p."), max_length=200, blank=True)
    vaf = models.DecimalField(
        _("variant allele fraction"),
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
    )
    classification = models.CharField(
        _("classification"), max_length=17, choices=Classification.choices, blank=True
    )
    chrom = models.CharField(_("chromosome"), max_length=30, blank=True)
    position = models.PositiveBigIntegerField(_("position"), null=True, blank=True)
    ref = models.CharField(_("reference allele"), max_length=200, blank=True)
    alt = models.CharField(_("alternate allele"), max_length=200, blank=True)
    from_vcf = models.BooleanField(_("read from the VCF"), default=False)

    objects = center_queryset("test__patient__site").as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["test", "gene"]
        verbose_name = _("variant")
        verbose_name_plural = _("variants")

    def __str__(self) -> str:
        return f"{self.gene} {self.hgvs_p or self.hgvs_c}"


class Fusion(models.Model):
    test = models.ForeignKey(GenomicTest, on_delete=models.PROTECT, related_name="fusions")
    gene_5 = models.CharField(_("5′ gene"), max_length=30)
    gene_3 = models.CharField(_("3′ gene (partner)"), max_length=30)
    breakpoint_5 = models.CharField(_("5′ breakpoint"), max_length=60, blank=True)
    breakpoint_3 = models.CharField(_("3′ breakpoint"), max_length=60, blank=True)
    in_frame = models.BooleanField(_("in frame"), null=True, blank=True)

    objects = center_queryset("test__patient__site").as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["test", "gene_5"]
        verbose_name = _("fusion")
        verbose_name_plural = _("fusions")

    def __str__(self) -> str:
        return f"{self.gene_5}::{self.gene_3}"


class CopyNumberChange(models.Model):
    class Change(models.TextChoices):
        AMPLIFICATION = "amplification", _("Amplification")
        GAIN = "gain", _("Gain")
        LOSS = "loss", _("Loss")
        DEEP_DELETION = "deep_deletion", _("Deep (homozygous) deletion")

    test = models.ForeignKey(GenomicTest, on_delete=models.PROTECT, related_name="copy_numbers")
    gene = models.CharField(_("gene (HGNC)"), max_length=30)
    change = models.CharField(_("change"), max_length=13, choices=Change.choices)
    copy_number = models.DecimalField(
        _("copy number"), max_digits=5, decimal_places=1, null=True, blank=True
    )

    objects = center_queryset("test__patient__site").as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["test", "gene"]
        verbose_name = _("copy-number change")
        verbose_name_plural = _("copy-number changes")

    def __str__(self) -> str:
        return f"{self.gene} {self.change}"


class ActionabilityQuerySet(ScopedQuerySet):
    """Reference data configured by data managers: every registry user may read it."""

    scope_trial_field = None

    def scope_q(self, scope: Scope) -> models.Q:
        return models.Q() if scope.center_site_ids else models.Q(pk__in=[])


class ActionabilityRule(models.Model):
    """Admin-configured: which alteration is actionable, at what level, for which therapy.
    No licensed knowledge base is bundled; each network decides its own table."""

    class Kind(models.TextChoices):
        VARIANT = "variant", _("Variant")
        FUSION = "fusion", _("Fusion")
        CNV = "cnv", _("Copy-number change")
        MSI = "msi", _("MSI-high / dMMR")
        TMB = "tmb", _("TMB-high")

    gene = models.CharField(_("gene (HGNC)"), max_length=30, blank=True)
    kind = models.CharField(_("alteration"), max_length=7, choices=Kind.choices)
    alteration = models.CharField(
        _("alteration pattern"),
        max_length=100,
        blank=True,
        help_text=_("e.g. p.R132 (any change at the codon); empty = any of this kind."),
    )
    level = models.CharField(_("evidence level"), max_length=20)
    therapy = models.CharField(_("therapy"), max_length=200)
    note = models.TextField(_("note"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = ActionabilityQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["gene", "kind"]
        verbose_name = _("actionability rule")
        verbose_name_plural = _("actionability rules")

    def __str__(self) -> str:
        return f"{self.gene or self.get_kind_display()} {self.alteration} → {self.therapy}"
