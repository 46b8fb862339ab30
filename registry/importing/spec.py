"""``DomainSpec``, what one template domain is (columns, parsers, required columns, owner,
natural key), and the savers that write a row through the registry's services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models

from .. import services
from ..models import GenomicTest, RegistryPatient, Tumour


@dataclass(frozen=True)
class DomainSpec:
    label: Any
    model: type[models.Model]
    columns: dict[str, Callable[[str, str], Any]]  # column -> parser (all optional ones too)
    required: tuple[str, ...]
    save: Callable[..., Any]  # (owner, existing, fields, user, reason, source) -> record
    owned_by_patient: bool = True
    #: the column naming the owning record by its source id, and that record's model
    owner_column: str = "patient_source_id"
    owner_model: type[models.Model] = RegistryPatient
    defaults: dict[str, Any] | None = None  # empty optional cells; None: DEFAULTS
    example: tuple[str, ...] = ()  # one documented example row of the template
    #: for records without a source id of their own (a test's variants): the columns
    #: that identify a row within its owner; re-imports match on them
    natural_key: tuple[str, ...] = ()

    @property
    def owner_field(self) -> str:
        if self.owner_model is Tumour:
            return "tumour"
        if self.owner_model is GenomicTest:
            return "test"
        return "patient"

    def row_key(self, row: dict[str, str]) -> str:
        """What two rows of one file may not share (a duplicate would import twice)."""
        if self.natural_key:
            parts = (row.get(self.owner_column, ""), *(row.get(c, "") for c in self.natural_key))
            return "\x1f".join(parts) if any(parts) else ""
        return row.get("source_id", "")


def _save_patient(
    patient_owner: Any,
    existing: Any,
    fields: dict,
    user: Any,
    reason: str,
    source: tuple[str, str],
    site: Any,
) -> Any:
    if existing is None:
        return services.registry_patient_register(
            site=site, acting_user=user, source_system=source[0], source_id=source[1], **fields
        )
    return services.registry_patient_update(
        patient=existing, acting_user=user, reason=reason, **fields
    )


def _child_saver(
    service: Callable[..., Any], kw: str, owner_kw: str = "patient"
) -> Callable[..., Any]:
    def save(
        owner: Any,
        existing: Any,
        fields: dict,
        user: Any,
        reason: str,
        source: tuple[str, str],
        site: Any,
    ) -> Any:
        if existing is None:
            return service(
                **{owner_kw: owner},
                acting_user=user,
                source_system=source[0],
                source_id=source[1],
                **fields,
            )
        return service(
            **{owner_kw: owner}, acting_user=user, reason=reason, **{kw: existing}, **fields
        )

    return save


def _result_saver(service: Callable[..., Any], kw: str) -> Callable[..., Any]:
    """Saver of a molecular test's result rows (no source id: matched by natural key)."""

    def save(
        owner: Any,
        existing: Any,
        fields: dict,
        user: Any,
        reason: str,
        source: tuple[str, str],
        site: Any,
    ) -> Any:
        if existing is None:
            return service(test=owner, acting_user=user, **fields)
        return service(test=owner, acting_user=user, reason=reason, **{kw: existing}, **fields)

    return save
