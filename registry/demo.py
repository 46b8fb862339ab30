"""A realistic demo registry over the demo centers, written fast through simple-history's
``bulk_create_with_history`` (every row has its history row).

Mix (approximating published Chinese series): HCC ~72 % (HBV in ~80 % of them),
iCCA ~14 %, perihilar / distal CCA ~8 %, gallbladder ~5 %, combined HCC-CCA ~2 %.
In iCCA, FGFR2 fusions ~13 % (Abou-Alfa GK et al., Lancet Oncol 2020;21:671-84, FIGHT-202
screening) and IDH1 mutations ~13 % (Abou-Alfa GK et al., Lancet Oncol 2020;21:796-807,
ClarIDHy screening; R132C the commonest). Stages are computed by the same engines as the
forms; treatments follow the stage; follow-up ends in death with a stage-dependent hazard.

Size: ``DEMO_REGISTRY_PATIENTS`` (default 2000; 0 skips), or
``python manage.py seed_registry --patients N``. Idempotent: centers that already have
demo records are skipped. Trial subjects of the demo trial get a registry record at their
center with the same identity document, so screening shows the registry pre-fill.
"""

from __future__ import annotations

import datetime
import math
import os
import random
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from simple_history.utils import bulk_create_with_history

from domain import liver_function
from domain.staging import ajcc_icc, ajcc_liver, bclc, cnlc
from patients.models import Patient
from sites.demo import DEMO_PASSWORD
from sites.models import Membership, Site
from sites.roles import Role

from .identity import national_pseudonym
from .models import (
    FollowUp,
    Fusion,
    GenomicTest,
    RegistryPatient,
    StagingRecord,
    Treatment,
    Tumour,
    Variant,
)

SOURCE = "DEMO"

CATEGORIES = [
    # category, topography, morphology, weight
    ("hcc", "C22.0", "8170/3", 72),
    ("icca", "C22.1", "8160/3", 14),
    ("pcca", "C24.0", "8162/3", 5),
    ("dcca", "C24.0", "8160/3", 3),
    ("gbc", "C23.9", "8140/3", 5),
    ("chcc_cca", "C22.0", "8180/3", 1),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华"
REGIONS = ["Shanghai", "Beijing", "Guangdong", "Zhejiang", "Sichuan", "Hubei", "Jiangsu"]
IDH1 = [
    ("p.R132C", "c.394C>T", 44),
    ("p.R132L", "c.395G>T", 18),
    ("p.R132G", "c.394C>G", 17),
    ("p.R132S", "c.394C>A", 12),
    ("p.R132H", "c.395G>A", 9),
]
FGFR2_PARTNERS = ["BICC1", "AHCYL1", "PPHLN1", "TACC3", "KIAA1217", "CCDC6"]


def _resident_id(rng: random.Random, birth: datetime.date) -> str:
    body = f"{rng.choice(['310101', '110105', '440103', '330106'])}{birth:%Y%m%d}{rng.randint(100, 999)}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]


def _consent(key: str, today: datetime.date) -> dict[str, Any]:
    """Research consent by tier: most patients agree to broad use, fewer to genomics and
    to recontact, some were never asked. Drawn from its own generator (keyed by the
    record) so the rest of the demo stays as it was."""
    rng = random.Random(key)  # noqa: S311 - demo data
    if rng.random() < 0.08:
        return {}
    broad = rng.random() < 0.92
    return {
        "consent_research": broad,
        "consent_genomic": broad and rng.random() < 0.8,
        "consent_recontact": broad and rng.random() < 0.55,
        "consent_date": today - datetime.timedelta(days=rng.randint(10, 900)),
    }


def _weighted(rng: random.Random, items: list[tuple]) -> tuple:
    return rng.choices(items, weights=[i[-1] for i in items])[0]


def _staff(sites: list[Site]) -> list[tuple[str, str, str]]:
    User = get_user_model()
    password = make_password(DEMO_PASSWORD)
    logins = []
    for site in sites:
        username = f"abs_{site.code.lower()}"
        user, _ = User.objects.get_or_create(
            username=username, defaults={"password": password, "email": f"{username}@demo.invalid"}
        )
        Membership.objects.get_or_create(user=user, role=Role.CENTER_ABSTRACTOR, site=site)
        logins.append((username, str(Role.CENTER_ABSTRACTOR.label), site.code))
        steward = f"stew_{site.code.lower()}"
        user, _ = User.objects.get_or_create(
            username=steward, defaults={"password": password, "email": f"{steward}@demo.invalid"}
        )
        Membership.objects.get_or_create(user=user, role=Role.CENTER_STEWARD, site=site)
        logins.append((steward, str(Role.CENTER_STEWARD.label), site.code))
    user, _ = User.objects.get_or_create(
        username="researcher", defaults={"password": password, "email": "researcher@demo.invalid"}
    )
    Membership.objects.get_or_create(user=user, role=Role.NETWORK_RESEARCHER)
    logins.append(("researcher", str(Role.NETWORK_RESEARCHER.label), "network"))
    return logins


def seed_registry(*, patients: int | None = None, seed: int = 20261202, stdout: Any = None) -> int:
    """Create ``patients`` demo registry patients spread over the demo centers."""
    if patients is None:
        patients = int(os.environ.get("DEMO_REGISTRY_PATIENTS", "2000"))
    sites = list(Site.objects.order_by("code"))
    if patients <= 0 or not sites:
        return 0
    logins = _staff(sites)
    done = set(
        RegistryPatient.objects.filter(source_system=SOURCE).values_list("site_id", flat=True)
    )
    todo = [s for s in sites if s.pk not in done]
    rng = random.Random(seed)
    today = datetime.date.today()
    created = 0
    with transaction.atomic():
        for site in todo:
            n = patients // len(sites) + (1 if sites.index(site) < patients % len(sites) else 0)
            created += _center(site, n, rng, today)
    if stdout is not None and created:
        stdout.write(f"Registry demo: {created} patients at {len(todo)} centers.")
        for username, role, where in logins[:2] + logins[-1:]:  # abs_, stew_ of one center
            stdout.write(f"  {username:<14} {role:<22} {where}")
    return created


def _center(site: Site, n: int, rng: random.Random, today: datetime.date) -> int:
    trial_people = list(
        Patient.objects.filter(trial_site__site=site).only(
            "full_name",
            "id_document_type",
            "id_document_number",
            "sex",
            "birth_date",
            "nationality",
            "is_expatriate",
        )
    )
    people: list[RegistryPatient] = []
    seen: set[str] = set()
    for i in range(n):
        if i < len(trial_people):
            p = trial_people[i]
            doc_type, number = p.id_document_type, p.id_document_number
            name, sex, birth = p.full_name, p.sex, p.birth_date
            nationality, expat = p.nationality, p.is_expatriate
        else:
            birth = today - datetime.timedelta(days=rng.randint(35 * 365, 85 * 365))
            doc_type, number = "resident_id", _resident_id(rng, birth)
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(["", rng.choice(GIVEN)])
            sex = "M" if rng.random() < 0.72 else "F"
            nationality, expat = "CN", False
        pseudonym = national_pseudonym(doc_type, number)
        if pseudonym in seen:
            continue
        seen.add(pseudonym)
        hbv = rng.random() < 0.65
        people.append(
            RegistryPatient(
                site=site,
                record_number=f"{site.code}-R{len(people) + 1:06d}",
                full_name=name,
                id_document_type=doc_type,
                id_document_number=number,
                national_pseudonym=pseudonym,
                sex=sex,
                birth_date=birth,
                nationality=nationality,
                is_expatriate=expat,
                residence_region=rng.choice(REGIONS),
                hbv=hbv,
                hcv=rng.random() < 0.05,
                alcohol=rng.random() < 0.12,
                masld=rng.random() < 0.10,
                liver_flukes=rng.random() < 0.04,
                psc=rng.random() < 0.01,
                hepatolithiasis=rng.random() < 0.05,
                cirrhosis=hbv and rng.random() < 0.7,
                **_consent(f"{site.code}-{len(people)}", today),
                source_system=SOURCE,
                source_id=f"{site.code}-{len(people) + 1}",
            )
        )
    people = bulk_create_with_history(
        people, RegistryPatient, batch_size=500, default_change_reason="Demo data"
    )
    tumours, stagings_for, treatments, follow_ups, tests_for = [], [], [], [], []
    for p in people:
        category, topo, morph, _w = _weighted(rng, CATEGORIES)
        if category == "hcc" and rng.random() < 0.8:
            p.hbv = True
        diagnosed = today - datetime.timedelta(days=rng.randint(30, 6 * 365))
        count = 1 if rng.random() < 0.6 else rng.randint(2, 6)
        size = max(8, int(rng.lognormvariate(3.6, 0.6)))
        vi = rng.choices(["none", "micro", "macro_branch", "macro_major"], [60, 20, 12, 8])[0]
        mets = (
            rng.sample(["lung", "bone", "peritoneum", "distant_nodes"], k=1)
            if rng.random() < 0.15
            else []
        )
        t = Tumour(
            patient=p,
            category=category,
            topography=topo,
            morphology=morph,
            diagnosis_date=diagnosed,
            basis="histology" if category != "hcc" or rng.random() < 0.4 else "imaging",
            focality="unifocal" if count == 1 else "multifocal",
            tumour_count=count,
            largest_size_mm=min(size, 250),
            vascular_invasion=vi,
            extrahepatic_invasion=rng.random() < 0.08,
            peritoneum_perforated=rng.random() < 0.04,
            nodes_positive=rng.random() < (0.3 if category != "hcc" else 0.05),
            metastatic_sites=mets,
            source_system=SOURCE,
            source_id=f"{p.source_id}-T",
        )
        tumours.append(t)
    tumours = bulk_create_with_history(
        tumours, Tumour, batch_size=500, default_change_reason="Demo data"
    )
    stagings: list[StagingRecord] = []
    for t in tumours:
        ecog = rng.choices([0, 1, 2, 3], [45, 35, 15, 5])[0]
        bili = round(rng.lognormvariate(2.8, 0.45), 1)
        alb = round(rng.uniform(26, 46), 1)
        cp = liver_function.child_pugh(
            bilirubin_umol_l=bili,
            albumin_g_l=alb,
            inr=round(rng.uniform(0.9, 1.9), 2),
            ascites=rng.choices(["none", "mild", "moderate_severe"], [80, 15, 5])[0],
            encephalopathy=rng.choices(["none", "grade_1_2"], [95, 5])[0],
        )
        macro = t.vascular_invasion.startswith("macro")
        common = {"tumour_count": t.tumour_count, "largest_size_mm": t.largest_size_mm}
        results = [("CHILD_PUGH", cp, cp.label or "")]
        if t.category in ("hcc", "chcc_cca"):
            results.append(
                (
                    "AJCC8_LIVER",
                    ajcc_liver(
                        **common,
                        vascular_invasion=t.vascular_invasion != "none",
                        major_vessel_or_organ_invasion=t.vascular_invasion == "macro_major"
                        or t.extrahepatic_invasion,
                        nodes_positive=t.nodes_positive,
                        metastasis=bool(t.metastatic_sites),
                    ),
                    None,
                )
            )
            results.append(
                (
                    "BCLC",
                    bclc(
                        **common,
                        macrovascular_invasion=macro,
                        extrahepatic_spread=bool(t.metastatic_sites),
                        child_pugh_class=cp.grade,
                        ecog=ecog,
                    ),
                    None,
                )
            )
            results.append(
                (
                    "CNLC",
                    cnlc(
                        **common,
                        vascular_invasion=macro,
                        extrahepatic_metastasis=bool(t.metastatic_sites),
                        child_pugh_class=cp.grade,
                        ecog=ecog,
                    ),
                    None,
                )
            )
        elif t.category == "icca":
            results.append(
                (
                    "AJCC8_ICC",
                    ajcc_icc(
                        **common,
                        vascular_invasion=t.vascular_invasion != "none",
                        peritoneum_perforated=t.peritoneum_perforated,
                        extrahepatic_invasion=t.extrahepatic_invasion,
                        nodes_positive=t.nodes_positive,
                        metastasis=bool(t.metastatic_sites),
                    ),
                    None,
                )
            )
        results.append(("ECOG", None, str(ecog)))
        for system, result, value in results:
            stagings.append(
                StagingRecord(
                    tumour=t,
                    system=system,
                    staged_on=t.diagnosis_date,
                    inputs=dict(result.inputs) if result is not None else {"grade": ecog},
                    computed_value=value if value is not None else (result.value or ""),
                    engine_version=result.engine_version if result is not None else "ecog-1.0",
                    missing=list(result.missing) if result is not None else [],
                )
            )
        stagings_for.append((t, ecog, cp.grade))
    bulk_create_with_history(
        stagings, StagingRecord, batch_size=1000, default_change_reason="Demo data"
    )
    for t, ecog, cp_grade in stagings_for:
        advanced = bool(t.metastatic_sites) or t.vascular_invasion.startswith("macro") or ecog >= 2
        start = t.diagnosis_date + datetime.timedelta(days=rng.randint(7, 40))
        if start > today:
            start = today
        if not advanced and rng.random() < 0.55:
            kind = rng.choice(
                ["resection", "resection", "rfa", "mwa", "transplant"]
                if t.category == "hcc"
                else ["resection"]
            )
            treatments.append(
                Treatment(
                    patient=t.patient,
                    tumour=t,
                    kind=kind,
                    start_date=start,
                    intent="curative",
                    source_system=SOURCE,
                    source_id=f"{t.source_id}-1",
                )
            )
        elif t.category == "hcc" and not t.metastatic_sites and rng.random() < 0.6:
            treatments.append(
                Treatment(
                    patient=t.patient,
                    tumour=t,
                    kind=rng.choice(["tace", "tace", "haic", "sirt"]),
                    start_date=start,
                    intent="palliative",
                    best_response=rng.choice(["PR", "SD", "PD"]),
                    source_system=SOURCE,
                    source_id=f"{t.source_id}-1",
                )
            )
        else:
            regimen = (
                "Atezolizumab + bevacizumab"
                if t.category == "hcc"
                else "Gemcitabine + cisplatin + durvalumab"
            )
            treatments.append(
                Treatment(
                    patient=t.patient,
                    tumour=t,
                    kind="systemic",
                    start_date=start,
                    intent="palliative",
                    line=1,
                    regimen=regimen,
                    drugs=regimen.lower().replace(" ", "").split("+"),
                    best_response=rng.choice(["PR", "SD", "SD", "PD"]),
                    source_system=SOURCE,
                    source_id=f"{t.source_id}-1",
                )
            )
        # follow-up: stage-dependent monthly hazard of death, progression before death
        hazard = 0.012 if not advanced else 0.06
        if cp_grade == "C":
            hazard *= 2
        months = -math.log(1 - rng.random()) / hazard
        death = t.diagnosis_date + datetime.timedelta(days=int(months * 30.4))
        progression = t.diagnosis_date + datetime.timedelta(
            days=int(months * 30.4 * rng.uniform(0.3, 0.8))
        )
        dead = death <= today
        contact = death if dead else today - datetime.timedelta(days=rng.randint(0, 90))
        contact = max(contact, t.diagnosis_date)
        event = "none"
        if progression <= contact:
            event = "recurrence" if treatments[-1].intent == "curative" else "progression"
        follow_ups.append(
            FollowUp(
                patient=t.patient,
                contact_date=contact,
                vital_status="dead" if dead else "alive",
                status_source="death_registry" if dead else rng.choice(["visit", "phone"]),
                event=event,
                event_date=progression if event != "none" else None,
                event_method="imaging" if event != "none" else "",
                death_date=death if dead else None,
                cause_of_death=rng.choices(["cancer", "liver_failure", "other"], [80, 15, 5])[0]
                if dead
                else "",
                source_system=SOURCE,
                source_id=f"{t.source_id}-F",
            )
        )
        if (
            t.category == "icca"
            or (t.category != "hcc" and rng.random() < 0.3)
            or rng.random() < 0.05
        ):
            tests_for.append(t)
    bulk_create_with_history(
        treatments, Treatment, batch_size=1000, default_change_reason="Demo data"
    )
    bulk_create_with_history(
        follow_ups, FollowUp, batch_size=1000, default_change_reason="Demo data"
    )
    tests = [
        GenomicTest(
            patient=t.patient,
            tumour=t,
            kind="panel",
            lab="Demo genomics lab",
            specimen="tissue",
            test_date=min(today, t.diagnosis_date + datetime.timedelta(days=21)),
            genes_covered=["FGFR2", "IDH1", "IDH2", "KRAS", "BRAF", "ERBB2", "TP53", "BAP1"],
            panel_size_mb="1.20",
            tmb=f"{rng.lognormvariate(1.0, 0.6):.2f}",
            msi="MSI-H" if rng.random() < 0.02 else "MSS",
            source_system=SOURCE,
            source_id=f"{t.source_id}-G",
        )
        for t in tests_for
    ]
    tests = bulk_create_with_history(
        tests, GenomicTest, batch_size=500, default_change_reason="Demo data"
    )
    variants, fusions = [], []
    for test, t in zip(tests, tests_for, strict=True):
        if t.category != "icca":
            continue
        r = rng.random()
        if r < 0.13:
            partner = rng.choice(FGFR2_PARTNERS)
            fusions.append(Fusion(test=test, gene_5="FGFR2", gene_3=partner, in_frame=True))
        elif r < 0.26:
            hgvs_p, hgvs_c, _w = _weighted(rng, IDH1)
            variants.append(
                Variant(
                    test=test,
                    gene="IDH1",
                    hgvs_c=hgvs_c,
                    hgvs_p=hgvs_p,
                    vaf=f"{rng.uniform(0.1, 0.5):.4f}",
                    classification="pathogenic",
                )
            )
        if rng.random() < 0.2:
            variants.append(
                Variant(
                    test=test,
                    gene="KRAS",
                    hgvs_c="c.35G>A",
                    hgvs_p="p.G12D",
                    vaf=f"{rng.uniform(0.1, 0.4):.4f}",
                    classification="pathogenic",
                )
            )
    bulk_create_with_history(variants, Variant, batch_size=1000, default_change_reason="Demo data")
    bulk_create_with_history(fusions, Fusion, batch_size=1000, default_change_reason="Demo data")
    return len(people)
