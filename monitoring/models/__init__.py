"""Monitoring models: queries, verifications, signatures, locks, edit checks, plans."""

from .checks import EditCheck
from .locks import Lock
from .queries import DataQuery, QueryMessage
from .review import MonitoringPlan, Signature, SourceVerification

__all__ = [
    "DataQuery",
    "EditCheck",
    "Lock",
    "MonitoringPlan",
    "QueryMessage",
    "Signature",
    "SourceVerification",
]
