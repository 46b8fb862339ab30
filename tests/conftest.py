"""Personas and the rules that keep CI honest.

Personas (Healthchecks ``hc/test.py`` style): ``coordinator_site_a``,
``coordinator_site_b``, ``investigator_site_a``, ``lead_investigator``, ``monitor``,
``data_manager``, ``administrator``; ``anonymous`` is the plain ``client``.

Tests marked ``postgres``, ``redis`` or ``browser`` are skipped, with a plain message,
where the service is missing; with ``REQUIRE_ALL_TESTS=1`` (CI) any skip fails the run.
"""

from __future__ import annotations

import datetime
import os
import shutil
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from patients.services import patient_register
from sites.roles import Role

from .factories import MembershipFactory, SiteFactory, TrialFactory, TrialSiteFactory, UserFactory

CHROMIUM = "/usr/bin/chromium"
_skipped: list[str] = []


def redis_available() -> bool:
    url = os.environ.get("REDIS_URL")
    if not url:
        return False
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except Exception:
        return False


def chromium_available() -> bool:
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        return False
    try:
        import playwright  # noqa: F401
    except ImportError:
        return False
    return True


def pytest_collection_modifyitems(config: Any, items: list) -> None:
    is_pg = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    has_redis = redis_available()
    has_chromium = chromium_available()
    for item in items:
        if "postgres" in item.keywords and not is_pg:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL"))
        if "redis" in item.keywords and not has_redis:
            item.add_marker(
                pytest.mark.skip(reason="needs Redis: set REDIS_URL to a running server")
            )
        if "browser" in item.keywords and not has_chromium:
            item.add_marker(
                pytest.mark.skip(reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)")
            )


def pytest_runtest_logreport(report: Any) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not chromium_available():
        terminalreporter.write_line(
            f"Browser tests NOT RUN: Chromium was not found at {CHROMIUM}.", yellow=True
        )
    if _skipped and os.environ.get("REQUIRE_ALL_TESTS") == "1":
        terminalreporter.write_line(
            f"REQUIRE_ALL_TESTS=1: {len(_skipped)} test(s) were skipped; failing the run.",
            red=True,
        )


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    if _skipped and os.environ.get("REQUIRE_ALL_TESTS") == "1" and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def _english_unless_a_test_says_otherwise() -> Any:
    """Each test starts in English: a request through LocaleMiddleware (a Chinese page in
    an earlier test on the same worker) leaves its language active in the thread, and
    service messages would then come out in Chinese."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _eager_celery_unless_worker_test(request: Any) -> Any:
    """Tasks run in-process (on commit) even where REDIS_URL configures a broker, as in
    CI, so tests see their effects and leave nothing queued in Redis; tests marked
    ``redis`` keep the broker and start a real worker."""
    from config.celery import app

    if request.node.get_closest_marker("redis"):
        yield
        return
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = before


@pytest.fixture
def trial(db: Any) -> Any:
    return TrialFactory(protocol_code="CRYO", title="Cryoablation trial")


@pytest.fixture
def trial_site_a(trial: Any) -> Any:
    return TrialSiteFactory(trial=trial, site=SiteFactory(code="SA", name="Site A"))


@pytest.fixture
def trial_site_b(trial: Any) -> Any:
    return TrialSiteFactory(
        trial=trial, site=SiteFactory(code="SB", name="Site B", clinic_weekdays=[1, 3])
    )


def _persona(username: str, role: str, **where: Any) -> Any:
    user = UserFactory(username=username)
    MembershipFactory(user=user, role=role, **where)
    return user


@pytest.fixture
def coordinator_site_a(trial_site_a: Any) -> Any:
    return _persona("crc_a", Role.COORDINATOR, trial=trial_site_a.trial, trial_site=trial_site_a)


@pytest.fixture
def coordinator_site_b(trial_site_b: Any) -> Any:
    return _persona("crc_b", Role.COORDINATOR, trial=trial_site_b.trial, trial_site=trial_site_b)


@pytest.fixture
def investigator_site_a(trial_site_a: Any) -> Any:
    return _persona(
        "pi_a", Role.SITE_INVESTIGATOR, trial=trial_site_a.trial, trial_site=trial_site_a
    )


@pytest.fixture
def lead_investigator(trial: Any) -> Any:
    return _persona("lead", Role.LEAD_INVESTIGATOR, trial=trial)


@pytest.fixture
def monitor(trial: Any) -> Any:
    return _persona("monitor", Role.MONITOR, trial=trial)


@pytest.fixture
def data_manager(db: Any) -> Any:
    user = _persona("dm", Role.DATA_MANAGER)
    user.is_staff = True
    user.save()
    return user


@pytest.fixture
def administrator(db: Any) -> Any:
    user = _persona("admin", Role.ADMINISTRATOR)
    user.is_staff = True
    user.save()
    return user


PATIENT_DATA = dict(
    full_name="张伟",
    sex="M",
    birth_date=datetime.date(1965, 4, 2),
    nationality="CN",
    is_expatriate=False,
    id_document_type="resident_id",
    id_document_number="11010519491231002X",
    preferred_language="zh",
)

EXPAT_DATA = dict(
    full_name="Kim Min-jun",
    sex="M",
    birth_date=datetime.date(1968, 7, 9),
    nationality="KR",
    is_expatriate=True,
    id_document_type="passport",
    id_document_number="M12345678",
    preferred_language="ko",
    interpreter_needed=True,
    residence_permit_expiry=datetime.date.today() + datetime.timedelta(days=400),
)


@pytest.fixture
def register() -> Any:
    def _register(trial_site: Any, user: Any, **overrides: Any) -> Any:
        data = {**PATIENT_DATA, **overrides}
        return patient_register(trial_site=trial_site, acting_user=user, **data)

    return _register


@pytest.fixture
def patient_a(trial_site_a: Any, coordinator_site_a: Any, register: Any) -> Any:
    return register(trial_site_a, coordinator_site_a)


@pytest.fixture
def patient_b(trial_site_b: Any, coordinator_site_b: Any, register: Any) -> Any:
    return register(trial_site_b, coordinator_site_b, **EXPAT_DATA)


@pytest.fixture
def all_personas(
    coordinator_site_a: Any,
    coordinator_site_b: Any,
    investigator_site_a: Any,
    lead_investigator: Any,
    monitor: Any,
    data_manager: Any,
    administrator: Any,
) -> dict[str, Any]:
    return {
        "coordinator_site_a": coordinator_site_a,
        "coordinator_site_b": coordinator_site_b,
        "investigator_site_a": investigator_site_a,
        "lead_investigator": lead_investigator,
        "monitor": monitor,
        "data_manager": data_manager,
        "administrator": administrator,
    }


def raw_column(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]
