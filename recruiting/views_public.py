"""Public pages: no login, no cookie on a GET, no inline script or style.

The language is the first path segment (``/recruiting/<lang>/``), never a cookie, so a
shared link shows the page in the language it was sent in. Only the appointment form
carries a CSRF token (its cookie is set with the page that holds the form, i.e. after
the pre-screening form was submitted).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import get_language_info
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from domain.prescreen import PrescreenOutcome, prescreen

from . import selectors, services
from .forms import BookingForm, PrescreenForm, make_token, read_token
from .models import SiteClinic, TrialPublicPage
from .throttle import over_limit


def _language(lang: str) -> str:
    if lang not in settings.RECRUITING_LANGUAGES:
        raise Http404
    return lang


def _render(
    request: HttpRequest, lang: str, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    info = get_language_info(lang)
    path = request.path
    prefix = f"/recruiting/{lang}/"
    rest = path[len(prefix) :] if path.startswith(prefix) else ""
    # The other languages of this page, as links (no form, no cookie).
    switch = [
        {
            "code": code,
            "name": name,
            "url": f"/recruiting/{code}/{rest}"
            if request.method == "GET"
            else f"/recruiting/{code}/",
        }
        for code, name in selectors.public_languages()
    ]
    context = {
        **context,
        "lang": lang,
        "lang_dir": "rtl" if info.get("bidi") else "ltr",
        "languages": switch,
    }
    response = render(request, template, context, status=status)
    response["Content-Language"] = lang
    return response


def _page(code: str) -> TrialPublicPage:
    return get_object_or_404(selectors.published_pages(), trial__protocol_code__iexact=code)


@login_not_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """Send the visitor to the best offered language of their browser."""
    offered = settings.RECRUITING_LANGUAGES
    accept = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    chosen = offered[0]
    for part in accept.split(","):
        tag = part.split(";")[0].strip().lower()
        if not tag:
            continue
        if tag in offered:
            chosen = tag
            break
        if (
            tag.startswith("zh")
            and "zh-hans" in offered
            and tag not in ("zh-tw", "zh-hk", "zh-hant")
        ):
            chosen = "zh-hans"
            break
        base = tag.split("-")[0]
        if base in offered:
            chosen = base
            break
    return redirect("recruiting:trials", lang=chosen)


@login_not_required
@require_GET
def trial_list(request: HttpRequest, lang: str) -> HttpResponse:
    lang = _language(lang)
    with translation.override(lang):
        pages = list(selectors.published_pages())
        items = [(p, list(selectors.public_clinics(p.trial))) for p in pages]
        return _render(request, lang, "recruiting/trial_list.html", {"items": items})


@login_not_required
@require_GET
def trial_detail(request: HttpRequest, lang: str, code: str) -> HttpResponse:
    lang = _language(lang)
    with translation.override(lang):
        page = _page(code)
        clinics = list(selectors.public_clinics(page.trial))
        days = selectors.clinic_days(clinics)
        return _render(
            request,
            lang,
            "recruiting/trial_detail.html",
            {
                "page": page,
                "trial": page.trial,
                "clinics": [(c, days[c.pk]) for c in clinics],
            },
        )


def _outcome_context(
    page: TrialPublicPage, spec: selectors.PrescreenSpec, outcome: PrescreenOutcome
) -> dict[str, Any]:
    def texts(codes: tuple[str, ...]) -> list[str]:
        by_code = {c.code: c for c in spec.rows}
        return [spec.plain_texts.get(code) or by_code[code].text for code in codes]

    return {
        "outcome": outcome,
        "not_met": texts(outcome.not_met),
        "to_check": texts(outcome.to_check),
        "clinic_checks": texts(outcome.clinic_checks),
    }


def _evaluate(
    page: TrialPublicPage,
    spec: selectors.PrescreenSpec,
    answers: dict[str, Any],
    foreign: bool,
    lang: str,
) -> PrescreenOutcome:
    today = timezone.localdate()
    parsed: dict[str, Any] = {}
    for q in spec.questions:
        value = answers.get(f"q{q.pk}")
        if q.kind == "date" and isinstance(value, str) and value:
            try:
                value = datetime.date.fromisoformat(value)
            except ValueError:
                value = None
        parsed[f"q{q.pk}"] = value
    return prescreen(
        spec.criteria,
        spec.engine_questions(),
        parsed,
        today=today,
        is_expatriate=foreign,
        known=selectors.known_values(trial=page.trial, language=lang, today=today),
    )


def _readable_answers(
    spec: selectors.PrescreenSpec, answers: dict[str, Any], foreign: bool
) -> dict[str, Any]:
    """The answers as the person saw them (question, answer), kept as source."""
    labels = {"yes": _("Yes"), "no": _("No"), "unknown": _("I don't know")}
    items = [
        {
            "field": "foreign_national",
            "question": _("Are you a foreign national living in China?"),
            "answer": labels["yes" if foreign else "no"],
            "value": foreign,
        }
    ]
    age = None
    for q in spec.questions:
        value = answers.get(f"q{q.pk}")
        if q.expatriate_only and not foreign:
            continue
        if q.kind == "age":
            age = value
            shown = str(value) if value is not None else labels["unknown"]
        elif q.kind == "choice":
            shown = next(
                (o.label for o in q.options.all() if f"o{o.pk}" == value), labels["unknown"]
            )
        elif q.kind == "yes_no":
            shown = labels.get(value or "unknown", labels["unknown"])
        else:
            shown = value or labels["unknown"]
        items.append({"field": q.field, "question": q.text, "answer": shown, "value": value})
    return {"age": age, "items": items}


def _booking_context(page: TrialPublicPage, form: BookingForm) -> dict[str, Any]:
    clinics = list(selectors.public_clinics(page.trial))
    days = selectors.clinic_days(clinics)
    return {"booking": form, "slots": [(c, days[c.pk]) for c in clinics]}


def _throttled(request: HttpRequest, lang: str) -> HttpResponse:
    response = _render(request, lang, "recruiting/throttled.html", {}, status=429)
    response["Retry-After"] = "60"
    return response


# The questionnaire changes nothing (the tally holds no personal data), so it needs no
# CSRF token and sets no cookie; the appointment request it leads to is CSRF-protected.
@csrf_exempt
@login_not_required
@require_http_methods(["GET", "POST"])
def prescreen_view(request: HttpRequest, lang: str, code: str) -> HttpResponse:
    lang = _language(lang)
    with translation.override(lang):
        page = _page(code)
        spec = selectors.prescreen_spec(page.trial, timezone.localdate())
        if request.method == "POST":
            if over_limit(request):
                return _throttled(request, lang)
            form = PrescreenForm(request.POST, questions=spec.questions)
            if form.is_valid():
                answers = form.answers()
                foreign = form.cleaned_data["foreign_national"]
                outcome = _evaluate(page, spec, answers, foreign, lang)
                services.prescreen_tally(trial=page.trial, verdict=str(outcome.verdict))
                booking = BookingForm(
                    initial={
                        "token": make_token(
                            trial_id=page.trial_id, answers=answers, foreign=foreign
                        ),
                        "language": lang,
                    },
                    languages=selectors.public_languages(),
                )
                context = {"page": page, **_outcome_context(page, spec, outcome)}
                if outcome.verdict != "probably_not":
                    context.update(_booking_context(page, booking))
                else:
                    context["clinics"] = list(selectors.public_clinics(page.trial))
                return _render(request, lang, "recruiting/prescreen_result.html", context)
        else:
            form = PrescreenForm(questions=spec.questions)
        return _render(request, lang, "recruiting/prescreen.html", {"page": page, "form": form})


@login_not_required
@require_POST
def book(request: HttpRequest, lang: str, code: str) -> HttpResponse:
    lang = _language(lang)
    with translation.override(lang):
        page = _page(code)
        if over_limit(request):
            return _throttled(request, lang)
        form = BookingForm(request.POST, languages=selectors.public_languages())
        if form.data.get("website"):
            # A bot filled in the hidden field: answer like a success, store nothing.
            return _render(
                request,
                lang,
                "recruiting/requested.html",
                {
                    "page": page,
                    "reference": services.new_reference(),
                },
            )
        token = read_token(form.data.get("token", ""), page.trial_id)
        if token is None:
            return redirect("recruiting:prescreen", lang=lang, code=page.trial.protocol_code)
        spec = selectors.prescreen_spec(page.trial, timezone.localdate())
        outcome = _evaluate(page, spec, token["a"], bool(token["x"]), lang)
        if form.is_valid():
            clinic_pk, day = form.cleaned_data["slot"]
            clinic = (
                SiteClinic.objects.filter(pk=clinic_pk).select_related("trial_site__site").first()
            )
            try:
                referral = services.referral_request(
                    trial=page.trial,
                    clinic=clinic,
                    day=day,
                    full_name=form.cleaned_data["full_name"],
                    email=form.cleaned_data["email"],
                    phone=form.cleaned_data["phone"],
                    language=form.cleaned_data["language"],
                    nationality=form.cleaned_data["nationality"],
                    interpreter_needed=form.cleaned_data["interpreter_needed"],
                    personal_information_consent=form.cleaned_data["personal_information_consent"],
                    answers=_readable_answers(spec, token["a"], bool(token["x"])),
                    outcome=outcome,
                )
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    for m in messages:
                        form.add_error(field if field in form.fields else None, m)
            else:
                return _render(
                    request,
                    lang,
                    "recruiting/requested.html",
                    {
                        "page": page,
                        "reference": referral.reference,
                        "referral": referral,
                        "clinic": clinic,
                    },
                )
        context = {
            "page": page,
            **_outcome_context(page, spec, outcome),
            **_booking_context(page, form),
        }
        return _render(request, lang, "recruiting/prescreen_result.html", context)
