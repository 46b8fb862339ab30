"""Protocol-prohibited concomitant medications (pure Python, no Django).

The flagship protocol (cryoablation + lenvatinib + PD-1 inhibitor) excludes other
anticancer therapy during treatment and cautions against systemic immunosuppression
(it blunts the PD-1 inhibitor; corticosteroids for immune-related AEs are allowed and
so only warned about) and live vaccines. The lists hold generic names (INN, lower case)
and are a protocol parameter: a trial can pass its own ``rules``.
"""

from __future__ import annotations

from dataclasses import dataclass

ANTICANCER = (
    "gemcitabine",
    "cisplatin",
    "oxaliplatin",
    "capecitabine",
    "fluorouracil",
    "5-fu",
    "tegafur",
    "s-1",
    "irinotecan",
    "paclitaxel",
    "nab-paclitaxel",
    "docetaxel",
    "sorafenib",
    "regorafenib",
    "donafenib",
    "apatinib",
    "anlotinib",
    "cabozantinib",
    "pemigatinib",
    "futibatinib",
    "infigratinib",
    "ivosidenib",
    "nivolumab",
    "pembrolizumab",
    "toripalimab",
    "sintilimab",
    "camrelizumab",
    "tislelizumab",
    "durvalumab",
    "atezolizumab",
    "ipilimumab",
    "tremelimumab",
    "bevacizumab",
)
IMMUNOSUPPRESSANTS = (
    "prednisone",
    "prednisolone",
    "methylprednisolone",
    "dexamethasone",
    "hydrocortisone",
    "tacrolimus",
    "cyclosporine",
    "ciclosporin",
    "mycophenolate",
    "azathioprine",
    "infliximab",
    "sirolimus",
)
LIVE_VACCINES = (
    "bcg vaccine",
    "measles vaccine",
    "mmr vaccine",
    "varicella vaccine",
    "yellow fever vaccine",
    "live attenuated influenza vaccine",
    "oral polio vaccine",
    "rotavirus vaccine",
)


@dataclass(frozen=True)
class Rule:
    category: str
    names: tuple[str, ...]
    prohibited: bool  # False: allowed with caution (a warning, not a violation)


DEFAULT_RULES = (
    Rule("anticancer", ANTICANCER, True),
    Rule("immunosuppressant", IMMUNOSUPPRESSANTS, False),
    Rule("live_vaccine", LIVE_VACCINES, True),
)


@dataclass(frozen=True)
class ConmedCheck:
    category: str  # "" when nothing matched
    prohibited: bool
    matched: str


def check(generic_name: str, rules: tuple[Rule, ...] = DEFAULT_RULES) -> ConmedCheck:
    """The first rule whose name appears in ``generic_name`` (whole words, any case)."""
    name = " ".join(generic_name.lower().replace(",", " ").split())
    padded = f" {name} "
    for rule in rules:
        for candidate in rule.names:
            if f" {candidate} " in padded:
                return ConmedCheck(rule.category, rule.prohibited, candidate)
    return ConmedCheck("", False, "")
