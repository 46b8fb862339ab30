"""``AdminData``: the users who appear in the audit trail, the sites as locations, the
signature definitions; and the ``Signature`` element written where a record was signed."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from monitoring.models import Signature

from ..writing import ExportContext
from .metadata import GROUPS, SYSTEM_USERNAME
from .xmlout import XmlOut, _attr, _oid_part


def _user_oid(username: str | None) -> str:
    return f"USR.{_oid_part(username or SYSTEM_USERNAME)}"


def _site_oid(code: str) -> str:
    return f"LOC.{_oid_part(code)}"


def _history_usernames(ctx: ExportContext) -> list[str]:
    names: set[str] = set()
    for group in GROUPS:
        qs = group.dataset.history_queryset(trial_site_ids=ctx.trial_site_ids, cutoff=ctx.cutoff)
        names.update(qs.order_by().values_list("history_username", flat=True).distinct())
    return sorted(names, key=lambda n: n or "")


def _signature_def_oid(meaning: str) -> str:
    return f"SD.{_oid_part(meaning.upper())}"


def _write_admin(out: XmlOut, ctx: ExportContext, signatures: dict[str, Any] | None = None) -> None:
    signatures = signatures or {}
    usernames = sorted(
        set(_history_usernames(ctx)) | {s.signer_username for s in signatures.values()},
        key=lambda n: n or "",
    )
    full_names = {
        u.username: u.get_full_name()
        for u in get_user_model().objects.filter(username__in=[n for n in usernames if n])
    }
    out.start("AdminData", {"StudyOID": f"ST.{ctx.trial.protocol_code}"})
    written = set()
    for name in usernames:
        name = name or SYSTEM_USERNAME
        oid = _user_oid(name)
        if oid in written:
            continue
        written.add(oid)
        out.start("User", {"OID": oid, "UserType": "Other" if name == SYSTEM_USERNAME else None})
        out.leaf("LoginName", name)
        if full_names.get(name):
            out.leaf("FullName", full_names[name])
        out.end("User")
    fallback = ctx.trial.created_at.date()
    for ts in ctx.trial_sites:
        out.start(
            "Location",
            {"OID": _site_oid(ts.site.code), "Name": ts.site.name, "LocationType": "Site"},
        )
        out.empty(
            "MetaDataVersionRef",
            {
                "StudyOID": f"ST.{ctx.trial.protocol_code}",
                "MetaDataVersionOID": "MDV.1",
                "EffectiveDate": (ts.activation_date or fallback).isoformat(),
            },
        )
        out.end("Location")
    for meaning, label in Signature.Meaning.choices:  # 21 CFR 11.50: the meaning
        out.start("SignatureDef", {"OID": _signature_def_oid(meaning), "Methodology": "Electronic"})
        out.leaf("Meaning", str(label))
        out.leaf(
            "LegalReason",
            _("Electronic signature under 21 CFR Part 11 (user id and password re-entered)."),
        )
        out.end("SignatureDef")
    out.end("AdminData")


def _signature_xml(signature: Any) -> str:
    """An ODM ``Signature``: who (UserRef), where (LocationRef), the meaning
    (SignatureRef to its SignatureDef) and when (UTC)."""
    stamp = signature.signed_at.astimezone(datetime.UTC).replace(tzinfo=None)
    return (
        f'<Signature><UserRef UserOID="{_attr(_user_oid(signature.signer_username))}"/>'
        f'<LocationRef LocationOID="{_attr(_site_oid(signature.trial_site.site.code))}"/>'
        f'<SignatureRef SignatureOID="{_signature_def_oid(signature.meaning)}"/>'
        f"<DateTimeStamp>{stamp.isoformat(timespec='seconds')}Z</DateTimeStamp>"
        "</Signature>\n"
    )
