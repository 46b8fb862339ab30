"""``/api/v1/queries/``, ``/verifications/``, ``/signatures/``, ``/locks/``.

Reads are scoped like every endpoint (another site's row is a 404). Each write checks
the role first (403), then validates the body (400 naming each field), then calls one
service; a write under a lock is a 400 naming the lock.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from api.base import ScopedViewSetMixin
from patients.models import Patient
from sites.mixins import require_perm
from sites.models import TrialSite
from sites.roles import Perm
from trials.models import Trial

from .. import services
from ..models import DataQuery, Lock, QueryMessage, Signature, SourceVerification
from ..services.common import resolve_record
from . import serializers as s

TARGETED = ("patient", "trial_site__site", "content_type")


def _validated(serializer_class: type[serializers.Serializer], request: Any) -> dict[str, Any]:
    data = serializer_class(data=request.data)
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)


class MonitoringViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    parser_classes = [JSONParser]

    def optimize(self, qs: Any) -> Any:
        return qs.select_related(*TARGETED)


class DataQueryViewSet(MonitoringViewSet):
    """Data queries on any monitored record or field, with their thread of messages."""

    queryset = DataQuery.objects.all()
    serializer_class = s.DataQuerySerializer
    filterset_fields = ["trial", "trial_site", "patient", "status", "origin", "field_name"]
    ordering = ["-raised_at", "-id"]

    def optimize(self, qs: Any) -> Any:
        return qs.select_related(*TARGETED).prefetch_related(
            Prefetch("messages", queryset=QueryMessage.objects.order_by("at", "pk"))
        )

    def _out(self, query: DataQuery, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.optimize(DataQuery.objects.filter(pk=query.pk)).get()
        return Response(s.DataQuerySerializer(fresh).data, status=code)

    @extend_schema(request=s.QueryRaiseInput, responses={201: s.DataQuerySerializer})
    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        """Raise a query (monitor, data manager)."""
        require_perm(request.user, Perm.RAISE_QUERY)
        data = _validated(s.QueryRaiseInput, request)
        record = resolve_record(form=data["form"], object_id=data["object_id"], user=request.user)
        query = services.query_raise(
            record=record,
            field_name=data.get("field_name", ""),
            text=data["text"],
            acting_user=request.user,
        )
        return self._out(query, status.HTTP_201_CREATED)

    @extend_schema(request=s.QueryAnswerInput, responses={200: s.DataQuerySerializer})
    @action(detail=True, methods=["post"])
    def answer(self, request: Any, pk: Any = None) -> Response:
        """The site's answer; ``correct`` with ``corrected_value`` corrects the field
        through the record's own service, with the query as reason for change."""
        query = self.get_object()
        require_perm(request.user, Perm.ANSWER_QUERY, trial_site=query.trial_site)
        data = _validated(s.QueryAnswerInput, request)
        query = services.query_answer(
            query=query,
            text=data["text"],
            correct=data.get("correct", False),
            corrected_value=data.get("corrected_value"),
            acting_user=request.user,
        )
        return self._out(query)

    def _step(self, request: Any, service: Any, input_class: Any) -> Response:
        query = self.get_object()
        require_perm(request.user, Perm.RAISE_QUERY, trial_site=query.trial_site)
        data = _validated(input_class, request)
        query = service(query=query, text=data.get("text", ""), acting_user=request.user)
        return self._out(query)

    @extend_schema(request=s.QueryStepInput, responses={200: s.DataQuerySerializer})
    @action(detail=True, methods=["post"])
    def close(self, request: Any, pk: Any = None) -> Response:
        """Close (monitor, data manager)."""
        return self._step(request, services.query_close, s.QueryStepInput)

    @extend_schema(request=s.QueryStepTextInput, responses={200: s.DataQuerySerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Any, pk: Any = None) -> Response:
        """Cancel, with the reason (monitor, data manager)."""
        return self._step(request, services.query_cancel, s.QueryStepTextInput)

    @extend_schema(request=s.QueryStepTextInput, responses={200: s.DataQuerySerializer})
    @action(detail=True, methods=["post"])
    def reopen(self, request: Any, pk: Any = None) -> Response:
        """Re-open, saying why (monitor, data manager)."""
        return self._step(request, services.query_reopen, s.QueryStepTextInput)


class VerificationViewSet(MonitoringViewSet):
    """Source data verification marks (current state per record; history keeps the rest)."""

    queryset = SourceVerification.objects.all()
    serializer_class = s.VerificationSerializer
    filterset_fields = ["trial", "trial_site", "patient", "status"]
    ordering = ["-verified_at", "-id"]

    @extend_schema(request=s.VerifyInput, responses={201: s.VerificationSerializer})
    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        """Mark a record (or some of its fields) verified against the source (monitor)."""
        require_perm(request.user, Perm.VERIFY_SOURCE)
        data = _validated(s.VerifyInput, request)
        record = resolve_record(form=data["form"], object_id=data["object_id"], user=request.user)
        row = services.sdv_verify(record=record, fields=data["fields"], acting_user=request.user)
        row = self.optimize(SourceVerification.objects.filter(pk=row.pk)).get()
        return Response(s.VerificationSerializer(row).data, status=status.HTTP_201_CREATED)


class SignatureViewSet(MonitoringViewSet):
    """Electronic signatures: signer, printed name, UTC time, meaning, content hash."""

    queryset = Signature.objects.all()
    serializer_class = s.SignatureSerializer
    filterset_fields = ["trial", "trial_site", "patient", "status", "level", "meaning"]
    ordering = ["-signed_at", "-id"]

    @extend_schema(request=s.SignInput, responses={201: s.SignatureSerializer})
    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        """Sign a casebook (form ``patients.patient``) or a record (site investigator);
        the user id and password are re-entered every time (21 CFR 11.200)."""
        require_perm(request.user, Perm.SIGN_OFF)
        data = _validated(s.SignInput, request)
        record = resolve_record(form=data["form"], object_id=data["object_id"], user=request.user)
        signature = services.signature_sign(
            record=record,
            level=data["level"],
            meaning=data["meaning"],
            username_entered=data["username"],
            password=data["password"],
            acting_user=request.user,
            otp_token=data.get("otp_token", ""),
        )
        signature = self.optimize(Signature.objects.filter(pk=signature.pk)).get()
        return Response(s.SignatureSerializer(signature).data, status=status.HTTP_201_CREATED)


def _visible(model: Any, user: Any, pk: Any, field: str) -> Any:
    if pk is None:
        return None
    found = model.objects.visible_to(user).filter(pk=pk).first()
    if found is None:
        raise serializers.ValidationError({field: ["No such record."]})
    return found


class LockViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Freezes and locks of casebooks, trial-sites and trials (active and released)."""

    parser_classes = [JSONParser]
    queryset = Lock.objects.all()
    serializer_class = s.LockSerializer
    filterset_fields = ["trial", "trial_site", "patient", "level", "mode"]
    ordering = ["-locked_at", "-id"]

    def optimize(self, qs: Any) -> Any:
        return qs.select_related("trial", "trial_site__site", "patient")

    @extend_schema(request=s.LockInput, responses={201: s.LockSerializer})
    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        """Freeze or lock (data manager). A lock is refused, with the list, while queries
        are open or required SDV or casebook signatures are missing."""
        require_perm(request.user, Perm.LOCK_DATA)
        data = _validated(s.LockInput, request)
        trial = _visible(Trial, request.user, data["trial"], "trial")
        lock = services.lock_create(
            trial=trial,
            level=data["level"],
            mode=data["mode"],
            trial_site=_visible(TrialSite, request.user, data.get("trial_site"), "trial_site"),
            patient=_visible(Patient, request.user, data.get("patient"), "patient"),
            label=data.get("label", ""),
            reason=data["reason"],
            acting_user=request.user,
        )
        lock = self.optimize(Lock.objects.filter(pk=lock.pk)).get()
        return Response(s.LockSerializer(lock).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ReleaseInput, responses={200: s.LockSerializer})
    @action(detail=True, methods=["post"])
    def release(self, request: Any, pk: Any = None) -> Response:
        """Unlock, with a reason (data manager)."""
        lock = self.get_object()
        require_perm(request.user, Perm.LOCK_DATA)
        data = _validated(s.ReleaseInput, request)
        lock = services.lock_release(lock=lock, reason=data["reason"], acting_user=request.user)
        lock = self.optimize(Lock.objects.filter(pk=lock.pk)).get()
        return Response(s.LockSerializer(lock).data)
