"""The engines' method statements, definitions, data problems and RECIST notes, in the
reader's language.

The pure engines (``domain/``) write these texts in English: they are stored as they are
in the statistics cache and in data-cut reports, which are records and keep one wording.
Pages translate them when they render them: a text is looked up as a whole first, then
matched against the templates below (the engines' wordings with their variable parts
named), and each variable part is translated in turn, so a composed statement ("KM;
pointwise 95% CI: log-log transform, ...") comes out in Chinese to the last clause. A text
no template matches is shown as it is (English), never dropped.

When an engine's wording changes, change its template here (and its translation in
``locale/``): ``tests/trials/test_engine_text.py`` runs the engines and fails on any
statement that stays English.
"""

from __future__ import annotations

import re
from functools import lru_cache

from django.utils.translation import gettext
from django.utils.translation import gettext_noop as _

#: The engines' texts with their variable parts as ``{name}``. Fixed texts are listed
#: too, so that ``makemessages`` and the test see the whole catalogue.
TEMPLATES: tuple[str, ...] = (
    # domain/statistics/: proportions, response rates, Kaplan-Meier, Fisher, log-rank
    _("Clopper-Pearson exact {level} CI"),
    _(
        "ORR = (CR + PR) / evaluable; DCR = (CR + PR + SD + non-CR/non-PD) / evaluable; "
        "{proportion}"
    ),
    _("patients with a best overall response other than NE (NE excluded)"),
    _("all patients with a best overall response, NE included (RECIST 1.1 / ITT)"),
    _("Kaplan-Meier estimator (scipy.stats.ecdf on CensoredData); pointwise {level} CI: {band}"),
    _(
        "log-log transform, exp(-exp(log(-log S) +/- z*SE)), Greenwood variance "
        "(as lifelines and Stata)"
    ),
    _("plain Greenwood, S +/- z*SE(S) clipped to [0, 1] (SciPy's default)"),
    _(
        "log transform, S*exp(+/- z*SE(log S)), Greenwood variance, upper limit "
        "clipped to 1 (R survfit's default)"
    ),
    _(
        "median = smallest time with S(t) <= 0.5 (lifelines convention; R survfit uses "
        "the midpoint where S(t) = 0.5 exactly over an interval); "
        "{level} CI by inverting the pointwise {band} band (Brookmeyer-Crowley "
        "type, as R survfit and lifelines): lower = first time the lower band <= 0.5, "
        "upper = first time the upper band <= 0.5; None = not reached"
    ),
    _("Duration of response; {km}"),
    _(
        "Fisher's exact test, two-sided p (scipy.stats.fisher_exact); odds ratio = "
        "conditional maximum-likelihood estimate with exact {level} CI (the definitions "
        'of scipy.stats.contingency.odds_ratio kind="conditional" and R fisher.test, on '
        "the whole support at once); sample_odds_ratio = ad/bc"
    ),
    _(
        "Fisher's exact test, two-sided p (scipy.stats.fisher_exact); odds ratio = "
        "sample odds ratio ad/bc with Woolf's logit {level} CI (more than {limit} "
        "patients: the conditional estimate is not computed); sample_odds_ratio = ad/bc"
    ),
    _(
        "log-rank (Mantel-Cox) test, two-sided (scipy.stats.logrank); statistic = "
        "chi-square on 1 df (square of SciPy's standardised statistic)"
    ),
    # domain/survival.py, domain/response_tests.py, domain/analysis.py
    _("log-rank test, chi-square on 1 df"),
    _("log-rank test stratified by the randomization strata, chi-square on 1 df"),
    _(
        "Cox proportional hazards, Efron ties, Wald CI and p-value (as R survival::coxph; "
        "checked against R and statsmodels PHReg)"
    ),
    _("{cox}; stratified"),
    _("reverse Kaplan-Meier (Schemper & Smith 1996)"),
    _("responders only: day 0 to the first CR/PR time point; median and range"),
    _("exact binomial test (scipy.stats.binomtest)"),
    _("Newcombe hybrid score interval (Wilson score limits of each rate)"),
    # domain/analysis_efficacy.py: the definitions stated with every figure
    _("{origin}, else enrollment date"),
    _("randomization date"),
    _("first treatment date"),
    _("enrolled patients with a baseline tumour assessment (or a recorded response)"),
    _("all randomized patients (intention to treat); no baseline scan counts as NE"),
    _("treated patients with a baseline tumour assessment (per protocol)"),
    _("patients with a baseline tumour assessment (or a recorded response)"),
    _("no post-baseline scan and fewer than {days} days since day 0: {handling}"),
    _("excluded from the response denominator and counted apart"),
    _("counted as NE in the response denominator"),
    _(
        "progression (RECIST PD / iRECIST confirmed iUPD) or death; censored at the last "
        "tumour assessment"
    ),
    _("death from any cause; censored at the last date known alive"),
    _("responders only: first documented response to progression or death"),
    _("Kaplan-Meier pointwise band and median CI: {band} transform"),
    _("none (no null rate in the protocol)"),
    _("exact binomial test of the ORR against {rate}, {sided}"),
    _("one-sided"),
    _("two-sided"),
    _("median follow-up by reverse Kaplan-Meier (Schemper & Smith 1996)"),
    # data problems (domain/analysis.py, domain/analysis_efficacy.py)
    _("death {death} is before enrollment {enrolled}"),
    _("assessment {when} is after death {death}"),
    _("follow-up scan {when} is not after the baseline scan {baseline}"),
    _("follow-up scan {when} is not after day 0 ({day0})"),
    _("subject id appears more than once"),
    _("no arm"),
    _("arm {arm} is not in arms"),
    _("site {site} is not in sites"),
    _("enrolled_on is required"),
    _("arm code not in arms"),
    # RECIST / iRECIST notes (domain/recist/)
    _("PD shown by the evaluated targets alone; not evaluated: {lesions}"),
    _("target lesions not evaluated: {lesions}"),
    _("PR maintained: response established earlier and PD criteria not met"),
    _("iCPD confirmed {gap} days after iUPD, later than the {window}-day window"),
    _("iUPD not confirmable: only {gap} days after iUPD on day {day}"),
    _("iUPD persists without further increase; not yet confirmed"),
    _("iUPD of day {day} reset"),
    _("equivocal new lesion: not progression unless confirmed later"),
    _("recorded response {recorded} used; calculated {calculated}"),
    _("response on day {day} not confirmed"),
    _("SD or better not seen at day >= {days}"),
    _("disease reappeared after an unconfirmed CR: progression"),
    _("no follow-up assessment"),
)

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Templates with variable parts, as full-match patterns, the most literal first (so
    "{cox}; stratified" is tried after every longer wording)."""
    out = []
    for template in TEMPLATES:
        parts = _PLACEHOLDER.split(template)
        if len(parts) == 1:
            continue
        regex = "".join(
            re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts)
        )
        out.append((template, re.compile(regex, re.DOTALL)))
    literal = lambda t: len(_PLACEHOLDER.sub("", t))  # noqa: E731
    return tuple(sorted(out, key=lambda item: -literal(item[0])))


def translate(text: str | None, _depth: int = 0) -> str | None:
    """``text`` in the active language (as it is when no translation is known)."""
    if not text or not isinstance(text, str):
        return text
    translated = gettext(text)
    if translated != text or _depth > 4:
        return translated
    for template, pattern in _patterns():
        match = pattern.fullmatch(text)
        if match is None:
            continue
        target = gettext(template)
        if target == template:
            return text
        values = {k: translate(v, _depth + 1) or "" for k, v in match.groupdict().items()}
        return target.format(**values)
    return text


def untranslated(texts: list[str]) -> list[str]:
    """The texts that have no translation in the active language (for the tests)."""
    return [t for t in texts if t and translate(t) == t]
