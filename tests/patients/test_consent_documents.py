"""Consent documents per language: the approved PDF with its SHA-256, named by the
consent record (issue 16)."""

from __future__ import annotations

import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.conftest import EXPAT_DATA
from trials.services import consent_document_upload

from .helpers_enroll import DAYS, TODAY, consent_version, give_consent, make_eligible

PDF_AR = b"%PDF-1.4\n% Arabic ICF v1.1\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PDF_EN = b"%PDF-1.4\n% English ICF v1.1\n%%EOF\n"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def upload(version, content, doc_version, user=None):
    return consent_document_upload(
        consent_version=version,
        file=SimpleUploadedFile("icf.pdf", content, content_type="application/pdf"),
        document_version=doc_version,
        ethics_approval_ref=f"EC-{doc_version}",
        approved_on=TODAY - DAYS(195),
        acting_user=user,
    )


@pytest.fixture
def arabic(trial_site_a, coordinator_site_a, register):
    patient = register(
        trial_site_a,
        coordinator_site_a,
        **{
            **EXPAT_DATA,
            "full_name": "Ahmed Saleh",
            "nationality": "EG",
            "preferred_language": "ar",
            "id_document_number": "A98765432",
        },
    )
    make_eligible(patient, coordinator_site_a)
    return patient


def test_a_consent_recorded_in_arabic_names_the_arabic_document_and_its_hash(
    media, trial, arabic, coordinator_site_a
):
    icf_ar = consent_version(trial, "1.1", "ar")
    icf_en = consent_version(trial, "1.1", "en")
    doc_ar = upload(icf_ar, PDF_AR, "1.1-AR-01")
    upload(icf_en, PDF_EN, "1.1-EN-01")
    consent = give_consent(arabic, coordinator_site_a, icf_ar, language="ar")
    assert consent.consent_document == doc_ar
    assert consent.consent_document_sha256 == hashlib.sha256(PDF_AR).hexdigest()
    assert consent.consent_document.consent_version.language == "ar"
    # The hash is the stored file's: what the record names is what is on disk.
    with doc_ar.file.open("rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == consent.consent_document_sha256


def test_the_consent_form_shows_the_documents_to_open_and_print(
    client, media, trial, arabic, coordinator_site_a
):
    doc = upload(consent_version(trial, "1.1", "ar"), PDF_AR, "1.1-AR-01")
    client.force_login(coordinator_site_a)
    html = client.get(reverse("patients:consent", args=[arabic.pk])).content.decode()
    assert doc.sha256 in html
    response = client.get(reverse("trials:consent_document", args=[doc.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    assert b"".join(response.streaming_content) == PDF_AR


def test_only_pdf_files_are_accepted_and_nothing_is_saved(media, trial):
    version = consent_version(trial, "1.1", "ar")
    with pytest.raises(ValidationError) as exc:
        upload(version, b"<html>not a pdf</html>", "1.1-AR-01")
    assert "file" in exc.value.message_dict
    assert not version.documents.exists()


def test_a_document_of_another_trial_is_not_found(client, media, coordinator_site_b, trial):
    from tests.factories import TrialFactory

    other = TrialFactory(protocol_code="OTHER")
    doc = upload(consent_version(other, "1.0", "en"), PDF_EN, "1.0-EN")
    client.force_login(coordinator_site_b)
    assert client.get(reverse("trials:consent_document", args=[doc.pk])).status_code == 404
