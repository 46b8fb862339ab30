"""Fixtures shared by the patient tests."""

from tests.api.conftest import api_for  # noqa: F401 - the API tests' client fixture
