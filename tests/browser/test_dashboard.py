"""The investigator dashboard in Chromium: every chart is drawn, with data, from the
app's own Chart.js; a site investigator's charts hold only their site's patients."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.trials.helpers_dashboard import seed

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CANVASES = (
    "canvas-enrollment",
    "canvas-rates",
    "canvas-waterfall",
    "canvas-swimmer",
    "canvas-km-pfs",
    "canvas-km-os",
)

# Number of drawn (non-null) data points per chart, or -1 where no Chart.js chart exists.
POINTS_JS = """
(ids) => ids.map((id) => {
  const canvas = document.getElementById(id);
  const chart = canvas && Chart.getChart(canvas);
  if (!chart) return [id, -1, 0];
  const points = chart.data.datasets.reduce(
    (n, d) => n + d.data.filter((v) => v !== null && v !== undefined).length, 0);
  return [id, points, canvas.width];
})
"""


@pytest.fixture
def seeded(trial, trial_site_a, trial_site_b):
    cache.clear()
    yield seed(trial, trial_site_a, trial_site_b)
    cache.clear()


def open_dashboard(page, live_server, trial, query=""):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{live_server.url}/trials/{trial.pk}/dashboard/{query}")
    page.wait_for_selector("body[data-charts-ready='1']")
    return errors, requests


def test_lead_investigator_sees_every_chart_rendered_with_data(
    page, live_server, trial, seeded, lead_investigator
):
    login(page, live_server, "lead")
    page.goto(f"{live_server.url}/trials/{trial.pk}/")
    page.click("#dashboard-link")
    page.wait_for_selector("body[data-charts-ready='1']")
    errors, requests = open_dashboard(page, live_server, trial)
    assert errors == []
    # Everything is served by the app itself: no CDN.
    assert all(url.startswith(live_server.url) for url in requests), requests
    for chart_id, points, width in page.evaluate(POINTS_JS, list(CANVASES)):
        assert points > 0, chart_id
        assert width > 0, chart_id
    swimmer = page.evaluate(
        "() => Chart.getChart(document.getElementById('canvas-swimmer')).data.labels"
    )
    assert set(swimmer) == {p.subject_id for p in seeded["SA"] + seeded["SB"]}
    # The numbers behind a chart are one click away.
    page.click("#chart-waterfall summary")
    assert seeded["SB"][0].subject_id in page.locator("#chart-waterfall table").inner_text()
    assert "Clopper-Pearson exact 95% CI" in page.locator("#chart-rates .method").inner_text()

    # The site filter reloads the page for one site.
    page.select_option("#id_site", "SB")
    page.wait_for_url("**/dashboard/?site=SB")
    page.wait_for_selector("body[data-charts-ready='1']")
    swimmer = page.evaluate(
        "() => Chart.getChart(document.getElementById('canvas-swimmer')).data.labels"
    )
    assert set(swimmer) == {p.subject_id for p in seeded["SB"]}


def test_site_investigator_sees_only_their_sites_patients(
    page, live_server, trial, seeded, investigator_site_a
):
    login(page, live_server, "pi_a")
    errors, _requests = open_dashboard(page, live_server, trial)
    assert errors == []
    for chart_id, points, _width in page.evaluate(POINTS_JS, list(CANVASES)):
        assert points > 0, chart_id
    labels = page.evaluate(
        "() => ['canvas-swimmer', 'canvas-waterfall'].map("
        "(id) => Chart.getChart(document.getElementById(id)).data.labels)"
    )
    own = {p.subject_id for p in seeded["SA"]}
    assert set(labels[0]) == own and set(labels[1]) == own
    # The trial-level aggregates are shown beside the site's own rates.
    rate_labels = page.evaluate(
        "() => Chart.getChart(document.getElementById('canvas-rates')).data.labels"
    )
    assert any("Whole trial" in label for label in rate_labels)
    body = page.locator("main").inner_text()
    for patient in seeded["SB"]:
        assert patient.subject_id not in body


def test_many_patients_bin_the_waterfall_and_cut_the_swimmer(
    page, live_server, trial, seeded, lead_investigator, monkeypatch
):
    from analysis import views as views_dashboard

    monkeypatch.setattr(views_dashboard, "PATIENT_ROWS_LIMIT", 4)  # six patients are many
    monkeypatch.setattr(views_dashboard, "SWIMMER_LONGEST", 2)
    login(page, live_server, "lead")
    errors, _requests = open_dashboard(page, live_server, trial)
    assert errors == []
    for chart_id, points, _width in page.evaluate(POINTS_JS, list(CANVASES)):
        assert points > 0, chart_id
    waterfall = page.evaluate(
        """() => { const c = Chart.getChart(document.getElementById('canvas-waterfall'));
        return {labels: c.data.labels, patients: c.data.datasets.reduce(
          (n, d) => n + d.data.reduce((a, b) => a + b, 0), 0)}; }"""
    )
    assert waterfall["patients"] == 6 and all("%" in label for label in waterfall["labels"])
    assert "6 patients, counted in bins of 5" in page.inner_text("#waterfall-note")
    swimmer = page.evaluate(
        "() => Chart.getChart(document.getElementById('canvas-swimmer')).data.labels"
    )
    assert len(swimmer) == 2
    assert "Showing the 2 patients longest on study of 6" in page.inner_text("#swimmer-note")
