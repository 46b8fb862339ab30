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

# The authenticator devices of the optional signature second factor carry history like
# every account change (who enrolled, confirmed or removed one, and when); the secret
# key and the throttling counters are not copied.
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402
from simple_history import register as _register_history  # noqa: E402

from audit.history import AuditHistoryBase, acting_user  # noqa: E402

if not hasattr(TOTPDevice, "history"):
    _register_history(
        TOTPDevice,
        app="monitoring",
        bases=[AuditHistoryBase],
        get_user=acting_user,
        excluded_fields=[
            "key",
            "last_t",
            "drift",
            "throttling_failure_timestamp",
            "throttling_failure_count",
            "last_used_at",
        ],
    )
