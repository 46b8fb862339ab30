"""``/api/v1/registry/…``: every domain, scoped by center, paginated; creates go
through the registry services (the same ones the forms call)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.base import ScopedViewSetMixin
from sites.roles import Perm
from sites.scoping import has_perm

from .. import services
from ..models import (
    CopyNumberChange,
    FollowUp,
    Fusion,
    GenomicTest,
    ImagingStudy,
    ImportJob,
    LiradsObservation,
    PathologyReport,
    RegistryPatient,
    StagingRecord,
    Treatment,
    Tumour,
    Variant,
)
from . import serializers as s


class RegistryViewSet(ScopedViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Base: list / retrieve scoped by center; create calls ``write``; PATCH corrects a
    saved record through ``services.registry_record_update`` with a reason."""

    http_method_names = ["get", "post", "patch", "head", "options"]

    related: tuple[str, ...] = ()
    ordering = ["id"]

    def optimize(self, qs: Any) -> Any:
        return qs.select_related(*self.related) if self.related else qs

    def check_may_write(self) -> None:
        if not has_perm(self.request.user, Perm.EDIT_REGISTRY):
            raise PermissionDenied(_("You may not change registry records."))

    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        self.check_may_write()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance = self.write(dict(serializer.validated_data))
        return Response(self.get_serializer(instance).data, status=status.HTTP_201_CREATED)

    def write(self, data: dict[str, Any]) -> Any:  # pragma: no cover - each subclass
        raise NotImplementedError

    _update_serializers: dict[type, type] = {}

    def get_serializer_class(self) -> Any:
        base = super().get_serializer_class()
        if getattr(self, "action", None) != "partial_update":
            return base
        if base not in self._update_serializers:
            attrs: dict[str, Any] = {}
            if isinstance(getattr(base.Meta, "fields", None), list | tuple):
                attrs["Meta"] = type(
                    "Meta", (base.Meta,), {"fields": [*base.Meta.fields, "reason"]}
                )
            self._update_serializers[base] = type(
                f"{base.__name__.removesuffix('Serializer')}UpdateSerializer",
                (base,),
                {
                    "reason": serializers.CharField(
                        write_only=True,
                        max_length=1000,
                        help_text="Reason for change (required); kept in the audit trail.",
                    ),
                    **attrs,
                },
            )
        return self._update_serializers[base]

    @extend_schema(
        description="Correct a saved record: send only the fields that change and a "
        "``reason``. The parent record, the source and computed fields cannot change "
        "(400 naming them); every problem is reported at once; the previous values stay "
        "in the history (``/api/v1/history/registry.<model>/<id>/``)."
    )
    def partial_update(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()  # another center's record: 404
        self.check_may_write()
        allowed = set(services.EDITABLE[type(instance)])
        given = set(request.data.keys()) if hasattr(request.data, "keys") else set()
        errors: dict[str, list[str]] = {
            f: [_("This field cannot be changed.")] for f in sorted(given - allowed - {"reason"})
        }
        reason = request.data.get("reason") if hasattr(request.data, "get") else None
        if not isinstance(reason, str) or not reason.strip():
            errors["reason"] = [_("A reason for change is required when editing saved data.")]
        serializer = self.get_serializer(
            instance,
            data={k: request.data[k] for k in given & allowed},
            partial=True,
        )
        if not serializer.is_valid():
            for field, messages in serializer.errors.items():
                errors.setdefault(field, []).extend(str(m) for m in messages)
        if errors:
            raise exceptions.ValidationError(errors)
        values = {k: v for k, v in serializer.validated_data.items() if k in allowed}
        updated = services.registry_record_update(
            record=type(instance).objects.get(pk=instance.pk),
            acting_user=request.user,
            reason=reason,
            **values,
        )
        return Response(self.get_serializer(updated).data)


class RegistryPatientViewSet(RegistryViewSet):
    """Registry patients of your center(s); identity only for center roles."""

    queryset = RegistryPatient.objects.all()
    serializer_class = s.RegistryPatientSerializer
    related = ("site",)
    filterset_fields = ["site", "sex", "is_expatriate"]

    def write(self, data: dict[str, Any]) -> Any:
        site = data.pop("site")
        return services.registry_patient_register(
            site=site,
            acting_user=self.request.user,
            source_system=data.pop("source_system", ""),
            source_id=data.pop("source_id", ""),
            **data,
        )


def _child(parent: str, service: Any, parent_kw: str | None = None) -> Any:
    def write(self: Any, data: dict[str, Any]) -> Any:
        owner = data.pop(parent)
        return service(**{parent_kw or parent: owner}, acting_user=self.request.user, **data)

    return write


class TumourViewSet(RegistryViewSet):
    """Diagnoses: ICD-O-3 topography and morphology, basis, size, invasion, metastases."""

    queryset = Tumour.objects.all()
    serializer_class = s.TumourSerializer
    related = ("patient__site",)
    filterset_fields = ["patient", "category", "topography", "morphology"]
    write = _child("patient", services.tumour_record)


class StagingRecordViewSet(RegistryViewSet):
    """Stages computed by the engines (inputs, value, version, any override + reason)."""

    queryset = StagingRecord.objects.all()
    serializer_class = s.StagingRecordSerializer
    related = ("tumour",)
    filterset_fields = ["tumour", "system"]
    write = _child("tumour", services.staging_compute)


class PathologyReportViewSet(RegistryViewSet):
    queryset = PathologyReport.objects.all()
    serializer_class = s.PathologyReportSerializer
    related = ("tumour",)
    filterset_fields = ["tumour", "protocol"]
    write = _child("tumour", services.pathology_report_record)


class GenomicTestViewSet(RegistryViewSet):
    """Molecular tests; ``POST …/{id}/vcf/`` (multipart ``vcf_file``) reads a VCF."""

    queryset = GenomicTest.objects.all()
    serializer_class = s.GenomicTestSerializer
    related = ("patient",)
    filterset_fields = ["patient", "kind", "msi"]
    write = _child("patient", services.genomic_test_record)

    @action(detail=True, methods=["post"], serializer_class=s.VcfUploadSerializer)
    def vcf(self, request: Any, pk: Any = None) -> Response:
        test = self.get_object()
        self.check_may_write()
        upload = s.VcfUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        file = upload.validated_data["vcf_file"]
        variants, problems = services.vcf_attach(
            test=test, content=file.read(), filename=file.name, acting_user=request.user
        )
        return Response(
            {"variants": len(variants), "skipped": problems}, status=status.HTTP_201_CREATED
        )


class VariantViewSet(RegistryViewSet):
    queryset = Variant.objects.all()
    serializer_class = s.VariantSerializer
    related = ("test",)
    filterset_fields = ["test", "gene", "classification"]
    write = _child("test", services.variant_record)


class FusionViewSet(RegistryViewSet):
    queryset = Fusion.objects.all()
    serializer_class = s.FusionSerializer
    related = ("test",)
    filterset_fields = ["test", "gene_5", "gene_3"]
    write = _child("test", services.fusion_record)


class CopyNumberChangeViewSet(RegistryViewSet):
    queryset = CopyNumberChange.objects.all()
    serializer_class = s.CopyNumberChangeSerializer
    related = ("test",)
    filterset_fields = ["test", "gene", "change"]
    write = _child("test", services.copy_number_record)


class ImagingStudyViewSet(RegistryViewSet):
    """Imaging studies by DICOM metadata; ``POST …/from-dicom/`` reads one file's header."""

    queryset = ImagingStudy.objects.all()
    serializer_class = s.ImagingStudySerializer
    related = ("patient",)
    filterset_fields = ["patient", "modality"]
    write = _child("patient", services.imaging_study_record)

    @action(
        detail=False,
        methods=["post"],
        url_path="from-dicom",
        serializer_class=s.DicomUploadSerializer,
    )
    def from_dicom(self, request: Any) -> Response:
        self.check_may_write()
        upload = s.DicomUploadSerializer(data=request.data, context=self.get_serializer_context())
        upload.is_valid(raise_exception=True)
        study = services.imaging_study_from_dicom(
            patient=upload.validated_data["patient"],
            content=upload.validated_data["dicom_file"].read(),
            dicomweb_url=upload.validated_data.get("dicomweb_url", ""),
            acting_user=request.user,
        )
        return Response(
            s.ImagingStudySerializer(study, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )


class LiradsObservationViewSet(RegistryViewSet):
    queryset = LiradsObservation.objects.all()
    serializer_class = s.LiradsObservationSerializer
    related = ("study",)
    filterset_fields = ["study", "category"]
    write = _child("study", services.lirads_observation_record)


class TreatmentViewSet(RegistryViewSet):
    queryset = Treatment.objects.all()
    serializer_class = s.TreatmentSerializer
    related = ("patient",)
    filterset_fields = ["patient", "kind", "intent"]
    write = _child("patient", services.treatment_record)


class FollowUpViewSet(RegistryViewSet):
    """Follow-up contacts: vital status, recurrence / progression, death."""

    queryset = FollowUp.objects.all()
    serializer_class = s.FollowUpSerializer
    related = ("patient",)
    filterset_fields = ["patient", "vital_status", "event"]
    write = _child("patient", services.followup_record)


class ImportJobViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """CSV imports of your center (status, progress, the dry-run report)."""

    queryset = ImportJob.objects.all()
    serializer_class = s.ImportJobSerializer
    filterset_fields = ["site", "domain", "status"]
    ordering = ["-created_at"]


ROUTES = [
    ("registry/patients", RegistryPatientViewSet, "registry-patient"),
    ("registry/tumours", TumourViewSet, "registry-tumour"),
    ("registry/stagings", StagingRecordViewSet, "registry-staging"),
    ("registry/pathology-reports", PathologyReportViewSet, "registry-pathology"),
    ("registry/genomic-tests", GenomicTestViewSet, "registry-genomictest"),
    ("registry/variants", VariantViewSet, "registry-variant"),
    ("registry/fusions", FusionViewSet, "registry-fusion"),
    ("registry/copy-numbers", CopyNumberChangeViewSet, "registry-copynumber"),
    ("registry/imaging-studies", ImagingStudyViewSet, "registry-imagingstudy"),
    ("registry/lirads-observations", LiradsObservationViewSet, "registry-lirads"),
    ("registry/treatments", TreatmentViewSet, "registry-treatment"),
    ("registry/follow-ups", FollowUpViewSet, "registry-followup"),
    ("registry/imports", ImportJobViewSet, "registry-import"),
]
