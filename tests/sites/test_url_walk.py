"""Walk every routed URL as every persona.

The walk is generated from the URL resolver, so a new route is covered the day it is
added; a route with a path parameter this file does not know how to fill fails the
test until a case is added (``fill``).
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from sites.models import Membership

from ..monitoring.helpers_monitoring import monitoring_objects

PUBLIC = {
    "login",
    "logout",
    "set_language",
    "healthz",
    "favicon",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "admin:login",
    "admin:logout",
    "jsi18n",
    "admin:jsi18n",
    "schema",
    "redoc",
    # Public recruiting pages (no login by design: recruiting/views_public.py).
    "recruiting:index",
    "recruiting:trials",
    "recruiting:trial",
    "recruiting:prescreen",
    "recruiting:book",
}
CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


def iter_routes(patterns: list, prefix: str = "", namespace: str = "") -> Any:
    for p in patterns:
        route = str(p.pattern)
        if isinstance(p, URLResolver):
            ns = p.namespace or namespace
            if ns and namespace and p.namespace:
                ns = f"{namespace}:{p.namespace}"
            yield from iter_routes(p.url_patterns, prefix + route, ns)
        elif isinstance(p, URLPattern):
            name = f"{namespace}:{p.name}" if namespace and p.name else (p.name or "")
            yield prefix + route, name, p


# The path segment before a ``pk`` names the model (web pages and API routes alike).
SEGMENT_MODEL = {
    "patients": "patients.patient",
    "screenings": "patients.screening",
    "consents": "patients.consent",
    "enrollments": "patients.enrollment",
    "visits": "patients.visit",
    "adverse-events": "patients.adverseevent",
    "assessments": "patients.tumorassessment",
    "tumor-assessments": "patients.tumorassessment",
    "lesions": "patients.lesion",
    "trials": "trials.trial",
    "arms": "trials.arm",
    "interventions": "trials.intervention",
    "protocol-versions": "trials.protocolversion",
    "consent-versions": "trials.consentversion",
    "visit-definitions": "trials.visitdefinition",
    "sites": "trial_sites.site",
    "trial-sites": "trial_sites.trialsite",
    "tokens": "api.apitoken",
    "exports": "exports.exportjob",
    "queries": "monitoring.dataquery",
    "verifications": "monitoring.sourceverification",
    "signatures": "monitoring.signature",
    "locks": "monitoring.lock",
    "casebook": "patients.patient",
    "labs": "clinical.labresult",
    "lab-results": "clinical.labresult",
    "vital-signs": "clinical.vitalsigns",
    "exposures": "clinical.exposure",
    "procedures": "clinical.procedure",
    "concomitant-medications": "clinical.concomitantmedication",
    "referrals": "recruiting.referral",
    "clinics": "recruiting.siteclinic",
    "consent-documents": "trials.consentdocument",
    "cohorts": "research.cohort",
    "feasibility": "trials.trial",
    "requests": "research.datarequest",
}
#: Registry routes (web and API) name their models with these segments.
REGISTRY_SEGMENT_MODEL = {
    "patients": "registry.registrypatient",
    "tumours": "registry.tumour",
    "stagings": "registry.stagingrecord",
    "pathology-reports": "registry.pathologyreport",
    "genomic-tests": "registry.genomictest",
    "variants": "registry.variant",
    "fusions": "registry.fusion",
    "copy-numbers": "registry.copynumberchange",
    "imaging-studies": "registry.imagingstudy",
    "lirads-observations": "registry.liradsobservation",
    "treatments": "registry.treatment",
    "follow-ups": "registry.followup",
    "imports": "registry.importjob",
    "cohorts": "research.cohort",
    "data-requests": "research.datarequest",
}
#: The entry form each registry ``<domain>`` route is walked with.
REGISTRY_DOMAIN = {
    "patients": "tumour",
    "tumours": "staging",
    "genomic-tests": "vcf",
    "imaging-studies": "observation",
    "templates": "tumours",  # the CSV template of a domain
}
NAMED_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")
#: The address site B's coordinator works from (in the access log).
SITE_B_IP = "203.0.113.77"


def site_b_objects(patient_b: Any, trial_site_b: Any, coordinator_site_b: Any) -> dict[str, Any]:
    """One object of every patient-level model at site B: coordinator A must never reach them."""
    from datetime import date

    from patients.models import (
        AdverseEvent,
        Consent,
        Enrollment,
        Lesion,
        Screening,
        TumorAssessment,
        Visit,
    )
    from trials.models import Arm, ConsentVersion

    trial = trial_site_b.trial
    arm = Arm.objects.create(trial=trial, code="WALK", name="Walk arm")
    version = ConsentVersion.objects.create(
        trial=trial,
        version="W1",
        language="en",
        ethics_approval_ref="EC",
        approved_on=date(2026, 1, 1),
        effective_from=date(2026, 1, 1),
    )
    screening = Screening.objects.create(
        patient=patient_b, screening_date=date(2026, 3, 1), result="eligible"
    )
    consent = Consent.objects.create(
        patient=patient_b,
        consent_version=version,
        language="en",
        consented_at="2026-03-02T10:00:00Z",
    )
    enrollment = Enrollment.objects.create(
        patient=patient_b,
        trial=trial,
        arm=arm,
        enrolled_on=date(2026, 3, 3),
        randomization_number="W-1",
        allocation_index=0,
    )
    visit = Visit.objects.create(patient=patient_b, scheduled_date=date(2026, 4, 1))
    ae = AdverseEvent.objects.create(
        patient=patient_b,
        term="Fatigue",
        grade=1,
        onset_date=date(2026, 4, 2),
        outcome="recovering",
        action_taken="none",
    )
    assessment = TumorAssessment.objects.create(
        patient=patient_b, is_baseline=True, assessment_date=date(2026, 3, 1), method="CT"
    )
    lesion = Lesion.objects.create(patient=patient_b, code="T1", organ="liver", baseline_mm=30)
    from trials.models import Intervention

    from ..api.helpers_api import clinical_records

    drug = Intervention.objects.create(trial=trial, kind="drug", name="Walk drug")
    clinical = clinical_records(patient_b, visit, drug, lesion, date(2026, 4, 1))
    clinical["lab-results"].ae_proposal = "proposed"
    clinical["lab-results"].save()
    monitoring = monitoring_objects(patient_b, visit)
    registry = registry_objects_at(trial_site_b.site)
    from recruiting.models import Referral

    referral = Referral.objects.create(
        trial_site=trial_site_b,
        reference="R-WALK-0001",
        requested_date=date(2026, 4, 7),
        appointment_date=date(2026, 4, 7),
        language="en",
        full_name="Walk Person",
        email="walk@example.org",
        nationality="GB",
        personal_information_consent_at="2026-03-01T10:00:00Z",
    )
    from audit.models import AccessLog

    # Site B's coordinator opened site B's patient: the access log names them, their IP
    # and the patient's URL; coordinator A must see none of it (admin included).
    access = AccessLog.objects.create(
        event=AccessLog.Event.VIEW,
        user=coordinator_site_b,
        username=coordinator_site_b.get_username(),
        ip=SITE_B_IP,
        path=f"/patients/{patient_b.pk}/",
        object_type="patients.patient",
        object_id=str(patient_b.pk),
    )
    return {
        "audit.accesslog": access,
        "recruiting.referral": referral,
        **registry,
        **monitoring,
        "clinical.labresult": clinical["lab-results"],
        "clinical.vitalsigns": clinical["vital-signs"],
        "clinical.exposure": clinical["exposures"],
        "clinical.procedure": clinical["procedures"],
        "clinical.concomitantmedication": clinical["concomitant-medications"],
        "patients.patient": patient_b,
        "patients.screening": screening,
        "patients.consent": consent,
        "patients.enrollment": enrollment,
        "patients.visit": visit,
        "patients.adverseevent": ae,
        "patients.tumorassessment": assessment,
        "patients.lesion": lesion,
        "trial_sites.trialsite": trial_site_b,
        "trial_sites.site": trial_site_b.site,
        "trial_sites.membership": Membership.objects.get(user=coordinator_site_b),
    }


def registry_objects_at(site: Any) -> dict[str, Any]:
    """One record of every registry model at ``site`` (a center of site B)."""
    from registry.services import registry_patient_register
    from sites.roles import Role
    from tests.factories import MembershipFactory, UserFactory
    from tests.registry.conftest import EXPAT_PATIENT
    from tests.registry.helpers import center_records

    abstractor = UserFactory(username="walk_abstractor_b")
    MembershipFactory(user=abstractor, role=Role.CENTER_ABSTRACTOR, site=site, trial=None)
    patient = registry_patient_register(site=site, acting_user=abstractor, **EXPAT_PATIENT)
    records = center_records(patient, abstractor, tag="W")
    return {
        **{f"registry.{type(obj).__name__.lower()}": obj for obj in records.values()},
        "research.datarequest": data_request_for(site),
    }


def data_request_for(site: Any) -> Any:
    """A researcher's data request concerning ``site`` (its steward and the requester see
    it; nobody else)."""
    from datetime import date

    from research.cohorts import cohort_create
    from research.extracts import request_submit
    from sites.roles import Role
    from tests.factories import MembershipFactory, UserFactory

    researcher = UserFactory(username="walk_researcher")
    MembershipFactory(user=researcher, role=Role.NETWORK_RESEARCHER, trial=None, trial_site=None)
    cohort = cohort_create(
        name="Walk cohort",
        criteria={"all": [{"type": "diagnosis", "category": ["hcc"]}]},
        acting_user=researcher,
    )
    return request_submit(
        acting_user=researcher,
        cohort=cohort,
        title="Walk request",
        purpose="Walk",
        ethics_committee="EC",
        ethics_approval_number="EC-1",
        ethics_approval_date=date(2026, 1, 1),
        centers=[site],
    )


def concrete_urls(objects: dict[str, Any], shared: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(url, name, targets_site_b) for every routed URL."""
    urls = []
    for raw_route, name, _pattern in iter_routes(get_resolver().url_patterns):
        route = raw_route.replace("^", "").replace("$", "").replace("\\Z", "")
        route = route.replace("\\.", ".").replace("/?", "/")
        route = NAMED_GROUP.sub(lambda m: f"<{m.group(1)}>", route)
        params = CONVERTER.findall(route)
        if not params:
            urls.append(("/" + route, name, False))
            continue
        model_label = None
        admin_match = re.match(r"admin/(\w+)/(\w+)/", route)
        if admin_match:
            model_label = f"{admin_match.group(1)}.{admin_match.group(2)}"
        values: dict[str, str] = {}
        targets_b = False
        if any(p == "label" for _c, p in params):
            values["label"] = "patients.patient"
            values["pk"] = str(objects["patients.patient"].pk)
            targets_b = True
        for conv, param in params:
            if param in values:
                continue
            if conv == "drf_format_suffix":
                values[param] = ".json"
                continue
            if param in ("pk", "object_id"):
                label = model_label
                if route.startswith("admin/r/"):  # admin's "view on site" shortcut
                    label = "patients.patient"
                if label is None:
                    before = re.split(rf"<(?:\w+:)?{param}>", route)[0].rstrip("/").split("/")
                    in_registry = "registry" in before
                    label = (REGISTRY_SEGMENT_MODEL if in_registry else SEGMENT_MODEL).get(
                        before[-1]
                    )
                    if label is None:
                        pytest.fail(f"{route}: add the segment {before[-1]!r} to SEGMENT_MODEL")
                if label in objects:
                    values[param], targets_b = str(objects[label].pk), True
                elif label in shared:
                    values[param] = str(shared[label].pk)
                else:
                    values[param] = "1"
            elif param == "site_id":
                values[param] = str(objects["trial_sites.site"].pk)
                targets_b = True
            elif param == "form_code":
                values[param] = "labs"
            elif param == "domain":
                segment = route.split("<")[0].rstrip("/").split("/")[-1]
                values[param] = REGISTRY_DOMAIN[segment]
            elif param == "app_label":
                values[param] = "patients"
            elif param == "version_id":
                obj = objects.get(model_label) or shared.get(model_label)
                values[param] = str(obj.history.first().history_id) if obj is not None else "1"
            elif param == "lang":
                values[param] = "en"
            elif param == "code":
                values[param] = "CRYO"
            elif param in ("content_type_id", "id", "uidb64", "token", "url", "format", "chart"):
                values[param] = {
                    "uidb64": "MQ",
                    "token": "set-password",
                    "format": "json",
                    "chart": "waterfall",
                }.get(param, "1")
            else:
                pytest.fail(f"{route}: add a case for path parameter <{param}> to the URL walk")
        url = "/" + CONVERTER.sub(lambda m, v=values: v[m.group(2)], route)
        urls.append((url, name, targets_b))
    return urls


@pytest.fixture
def walk(patient_a, patient_b, trial_site_a, trial_site_b, coordinator_site_b, trial):
    return concrete_urls(
        site_b_objects(patient_b, trial_site_b, coordinator_site_b),
        {"trials.trial": trial},
    )


def test_anonymous_is_sent_to_login_everywhere(client, walk):
    for url, name, _b in walk:
        if name in PUBLIC or name.startswith("admin:password_reset"):
            continue
        response = client.get(url)
        assert response.status_code in (302, 401, 403), (url, response.status_code)
        if response.status_code == 302:
            assert "login" in response.url, (url, response.url)


def test_coordinator_of_site_a_gets_404_for_site_b_everywhere(
    client, walk, coordinator_site_a, patient_b
):
    coordinator_site_a.is_staff = True  # even with admin access, the admin is scoped
    coordinator_site_a.save()
    client.force_login(coordinator_site_a)
    checked = 0
    for url, _name, targets_b in walk:
        response = client.get(url)
        assert response.status_code != 500, url
        if targets_b:
            final = client.get(url, follow=True)
            assert final.status_code == 404, (url, response.status_code, final.status_code)
            checked += 1
        if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
            html = response.content.decode()
            # Site B's data: its patient, the patient's identity, its staff and their IPs.
            for marker in (
                patient_b.subject_id,
                patient_b.full_name,
                patient_b.id_document_number,
                SITE_B_IP,
                "crc_b",
            ):
                assert marker not in html, (url, marker)
    assert checked >= 6  # the patient pages, history and the admin pages of site B objects


@pytest.mark.parametrize(
    "persona",
    [
        "coordinator_site_a",
        "coordinator_site_b",
        "investigator_site_a",
        "lead_investigator",
        "monitor",
        "data_manager",
        "administrator",
    ],
)
def test_every_persona_walks_every_url_without_error(client, walk, persona, all_personas):
    client.force_login(all_personas[persona])
    for url, _name, _b in walk:
        response = client.get(url)
        assert response.status_code < 500, (persona, url, response.status_code)


def test_trial_wide_roles_see_every_site(client, patient_a, patient_b, lead_investigator, monitor):
    for user in (lead_investigator, monitor):
        client.force_login(user)
        html = client.get("/patients/").content.decode()
        assert patient_a.subject_id in html and patient_b.subject_id in html
        assert client.get(f"/patients/{patient_b.pk}/").status_code == 200


def test_identity_is_pseudonymised_for_lead_investigator(
    client, patient_a, lead_investigator, monitor
):
    client.force_login(lead_investigator)
    assert "张伟" not in client.get(f"/patients/{patient_a.pk}/").content.decode()
    client.force_login(monitor)  # monitors verify source data
    assert "张伟" in client.get(f"/patients/{patient_a.pk}/").content.decode()


def test_center_abstractor_of_site_a_gets_404_for_site_b_everywhere(client, walk, trial_site_a):
    """A registry role of center A, walking every route: every record of center B (its
    registry records and its trial records alike) is a 404, and nothing 500s."""
    from sites.roles import Role
    from tests.factories import MembershipFactory, UserFactory

    abstractor = UserFactory(username="walk_abstractor_a", is_staff=True)
    MembershipFactory(
        user=abstractor, role=Role.CENTER_ABSTRACTOR, site=trial_site_a.site, trial=None
    )
    client.force_login(abstractor)
    checked = 0
    for url, _name, targets_b in walk:
        response = client.get(url)
        assert response.status_code < 500, (url, response.status_code)
        if targets_b:
            final = client.get(url, follow=True)
            assert final.status_code == 404, (url, response.status_code, final.status_code)
            checked += 1
    assert checked >= 20  # the registry pages, API routes and admin pages of center B


# --- blinded personas: a blinded trial, every route ------------------------------------

SECRET_ARMS = {"ZQXARM": "Zebra regimen", "WQXARM": "Walrus regimen"}
#: Routes that show the protocol itself (its arms are public, like a registry entry of
#: the trial): arm names may appear there, allocations never.
PROTOCOL_ROUTES = re.compile(r"^(trials:detail|v1:arm-|v1:trial-|admin:trials_)")


@pytest.fixture
def blinded_walk(walk, trial, patient_a, trial_site_b):
    """The walk's trial made blinded, with a site A patient in one arm and the site B
    patient in another, blocks and sequence positions recorded, an adverse event whose
    causality names the study treatment."""
    from datetime import date

    from patients.models import AdverseEvent, AdverseEventCausality, Enrollment
    from trials.models import Arm, Intervention, Trial

    trial.blinding = Trial.Blinding.BLINDED
    trial.randomization_block_sizes = "2,4,8"
    trial.save()
    arm_b = Arm.objects.get(trial=trial, code="WALK")
    arm_b.code, arm_b.name = "WQXARM", SECRET_ARMS["WQXARM"]
    arm_b.save()
    arm_a = Arm.objects.create(trial=trial, code="ZQXARM", name=SECRET_ARMS["ZQXARM"])
    for enrollment in Enrollment.objects.filter(trial=trial):
        enrollment.allocation_index, enrollment.block_number, enrollment.block_size = 5, 3, 8
        enrollment.save()
    Enrollment.objects.create(
        patient=patient_a,
        trial=trial,
        arm=arm_a,
        enrolled_on=date(2026, 3, 3),
        randomization_number="W-A1",
        allocation_index=6,  # the next position of the stratum's sequence
        block_number=3,
        block_size=8,
    )
    drug = Intervention.objects.get(trial=trial, name="Walk drug")
    drug.arms.add(arm_a)
    event = AdverseEvent.objects.create(
        patient=patient_a,
        term="Nausea",
        grade=2,
        onset_date=date(2026, 4, 2),
        outcome="recovering",
        action_taken="none",
    )
    AdverseEventCausality.objects.create(
        adverse_event=event, intervention=drug, relatedness="possible"
    )
    return walk


def allocation_shown(url: str, name: str, content: str) -> list[str]:
    import json

    from ..api.helpers_api import allocation_leaks

    found = []
    if not PROTOCOL_ROUTES.match(name):
        # The study treatment's name is not a secret: a blinded trial's arms must list the
        # same interventions (trials.validators refuses anything else), so it names no arm.
        found += [s for s in (*SECRET_ARMS, *SECRET_ARMS.values()) if s in content]
    found += [s for s in ("2,4,8", "randomization_block_sizes") if s in content]
    # The API root is a directory of routes: its "arms" key is the arms list's URL.
    if content.lstrip().startswith(("{", "[")) and not name.endswith("api-root"):
        with contextlib.suppress(ValueError):
            found += allocation_leaks(json.loads(content))
    return found


@pytest.mark.parametrize(
    "persona", ["coordinator_site_a", "coordinator_site_b", "investigator_site_a", "monitor"]
)
def test_blinded_personas_see_no_allocation_anywhere(client, blinded_walk, persona, all_personas):
    """Every routed URL, as every role without the unblinded view (with admin access too):
    no arm, block, sequence position or study-treatment name of a patient, no arm-level
    figure."""
    user = all_personas[persona]
    user.is_staff = True
    user.save()
    client.force_login(user)
    shown = {}
    for url, name, _b in blinded_walk:
        response = client.get(url)
        assert response.status_code < 500, (persona, url, response.status_code)
        if response.status_code != 200 or response.streaming:
            continue
        leaks = allocation_shown(url, name, response.content.decode(errors="replace"))
        if leaks:
            shown[url] = leaks
    assert not shown, (persona, shown)


def test_the_blinded_walk_can_see_an_arm(client, blinded_walk, lead_investigator, patient_a):
    """The same check finds the arm for the lead investigator (unblinded view)."""
    client.force_login(lead_investigator)
    html = client.get(f"/patients/{patient_a.pk}/").content.decode()
    assert allocation_shown("/patients/", "patients:detail", html)
