"""Demo data: the flagship cryoablation trial at ~20 sites, staff for every role, and
registered patients including expatriates. Idempotent: running it again adds nothing
that is already there. Sites, hospitals and identifiers are fictitious."""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from audit.context import audit_context
from patients.models import Patient
from patients.services import patient_register
from sites.models import Membership, Site, TrialSite
from sites.roles import Role

from .models import Arm, Intervention, ProtocolVersion, Trial

DEMO_PASSWORD = "demo-Trial-2026"  # noqa: S105 - printed for the demo, documented

SITES = [
    # code, name, city, time zone, clinic days (0=Mon)
    ("SH01", "Shanghai Hepatobiliary Center (lead site)", "Shanghai", "Asia/Shanghai", [0, 2]),
    ("BJ01", "Beijing Liver and Biliary Hospital", "Beijing", "Asia/Shanghai", [1, 3]),
    ("GZ01", "Guangzhou Hepatobiliary Institute", "Guangzhou", "Asia/Shanghai", [0, 3]),
    ("HZ01", "Hangzhou Digestive Oncology Hospital", "Hangzhou", "Asia/Shanghai", [1, 4]),
    ("CD01", "Chengdu West China Liver Center", "Chengdu", "Asia/Shanghai", [2, 4]),
    ("WH01", "Wuhan Tongji Hepatobiliary Unit", "Wuhan", "Asia/Shanghai", [0, 2]),
    ("NJ01", "Nanjing Drum Tower Liver Clinic", "Nanjing", "Asia/Shanghai", [1, 3]),
    ("XA01", "Xi'an Northwest Hepatobiliary Hospital", "Xi'an", "Asia/Shanghai", [0, 4]),
    ("TJ01", "Tianjin Cancer Hepatobiliary Center", "Tianjin", "Asia/Shanghai", [2]),
    ("SY01", "Shenyang Northeast Liver Institute", "Shenyang", "Asia/Shanghai", [1, 3]),
    ("CS01", "Changsha Xiangya Hepatobiliary Unit", "Changsha", "Asia/Shanghai", [0, 2]),
    ("CQ01", "Chongqing Southwest Hepatobiliary Hospital", "Chongqing", "Asia/Shanghai", [1, 4]),
    ("JN01", "Jinan Shandong Liver Center", "Jinan", "Asia/Shanghai", [0, 3]),
    ("ZZ01", "Zhengzhou Central Plains Oncology", "Zhengzhou", "Asia/Shanghai", [2, 4]),
    ("KM01", "Kunming Yunnan Hepatobiliary Hospital", "Kunming", "Asia/Shanghai", [1, 3]),
    ("HB01", "Harbin Northern Liver Hospital", "Harbin", "Asia/Shanghai", [0, 2]),
    ("FZ01", "Fuzhou Mengchao Hepatobiliary Center", "Fuzhou", "Asia/Shanghai", [1, 4]),
    ("XM01", "Xiamen International Liver Clinic", "Xiamen", "Asia/Shanghai", [0, 3]),
    ("UR01", "Urumqi Xinjiang Hepatobiliary Center", "Urumqi", "Asia/Urumqi", [1, 3]),
    ("SZ01", "Shenzhen Bay Hepatobiliary Hospital", "Shenzhen", "Asia/Shanghai", [0, 2]),
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "丽",
    "华",
    "平",
]
EXPATS = [
    ("KR", "ko", "Kim Min-jun"),
    ("RU", "ru", "Ivan Petrov"),
    ("US", "en", "Michael Brown"),
    ("DE", "de", "Anna Schneider"),
    ("JP", "ja", "Sato Haruto"),
    ("VN", "vi", "Nguyen Van An"),
    ("PK", "ur", "Ahmed Khan"),
    ("KZ", "kk", "Aigerim Nurlanovna"),
    ("FR", "fr", "Claire Martin"),
    ("GB", "en", "James Wilson"),
]


@dataclass
class DemoLogin:
    username: str
    role: str
    where: str


def resident_id(rng: random.Random, birth: datetime.date) -> str:
    body = f"310101{birth:%Y%m%d}{rng.randint(100, 999)}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]


class DemoBuilder:
    def __init__(self, *, sites: int, patients_per_site: int, seed: int = 20261123) -> None:
        self.site_count = min(sites, len(SITES))
        self.patients_per_site = patients_per_site
        self.rng = random.Random(seed)
        self.logins: list[DemoLogin] = []
        self._password = make_password(DEMO_PASSWORD)

    def user(
        self, username: str, first: str, last: str, *, staff: bool = False, superuser: bool = False
    ) -> object:
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@demo.invalid",
                "is_staff": staff or superuser,
                "is_superuser": superuser,
                "password": self._password,
            },
        )
        return user

    def role(
        self,
        user: object,
        role: str,
        *,
        trial: Trial | None = None,
        trial_site: TrialSite | None = None,
        where: str = "",
    ) -> None:
        Membership.objects.get_or_create(
            user=user,
            role=role,
            trial=trial if trial_site is None else trial_site.trial,
            trial_site=trial_site,
        )
        self.logins.append(DemoLogin(user.username, Role(role).label, where))

    def trial(self) -> Trial:
        trial, created = Trial.objects.get_or_create(
            protocol_code="CRYO-ICC",
            defaults=dict(
                title=(
                    "Cryoablation plus lenvatinib and a PD-1 inhibitor versus lenvatinib and "
                    "a PD-1 inhibitor for advanced intrahepatic cholangiocarcinoma: a "
                    "randomized, open-label, multi-center phase 2 trial"
                ),
                short_title="Cryoablation + targeted + immunotherapy in advanced iCCA",
                chictr_id="ChiCTR2600012345",
                phase=Trial.Phase.PHASE2,
                design=Trial.Design.RANDOMIZED,
                blinding=Trial.Blinding.OPEN,
                status=Trial.Status.RECRUITING,
                response_criteria=Trial.ResponseCriteria.RECIST11,
                planned_followup_months=24,
                imaging_interval_weeks=6,
                confirmation_required=False,
                randomization_block_sizes="4,6",
                stratify_by_ecog=True,
            ),
        )
        a, _ = Arm.objects.get_or_create(
            trial=trial,
            code="A",
            defaults={"name": "Cryoablation + lenvatinib + toripalimab", "allocation_ratio": 1},
        )
        b, _ = Arm.objects.get_or_create(
            trial=trial,
            code="B",
            defaults={
                "name": "Lenvatinib + toripalimab",
                "allocation_ratio": 1,
                "is_control": True,
            },
        )
        for kind, name, dose, route, schedule, arms in [
            (
                "procedure",
                "Percutaneous cryoablation",
                "Argon-helium, 2 freeze-thaw cycles",
                "CT-guided percutaneous",
                "Day 1; repeat for residual disease",
                [a],
            ),
            ("drug", "Lenvatinib", "8 mg (<60 kg) / 12 mg (>=60 kg)", "oral", "once daily", [a, b]),
            ("biological", "Toripalimab (anti-PD-1)", "240 mg", "IV", "every 3 weeks", [a, b]),
        ]:
            iv, created = Intervention.objects.get_or_create(
                trial=trial,
                name=name,
                defaults={"kind": kind, "dose": dose, "route": route, "schedule": schedule},
            )
            if created:
                iv.arms.set(arms)
        ProtocolVersion.objects.get_or_create(
            trial=trial,
            version="1.0",
            defaults={
                "effective_date": datetime.date(2026, 1, 15),
                "ethics_approval_ref": "SH01-IRB-2025-118",
                "summary": "Initial protocol",
            },
        )
        ProtocolVersion.objects.get_or_create(
            trial=trial,
            version="1.1",
            defaults={
                "effective_date": datetime.date(2026, 6, 1),
                "ethics_approval_ref": "SH01-IRB-2026-044",
                "summary": "Expatriate patients: translated consents, remote follow-up",
            },
        )
        return trial

    def sites(self, trial: Trial) -> list[TrialSite]:
        out = []
        for i, (code, name, city, tz, days) in enumerate(SITES[: self.site_count]):
            site, _ = Site.objects.get_or_create(
                code=code,
                defaults={
                    "name": name,
                    "city": city,
                    "country": "CN",
                    "time_zone": tz,
                    "clinic_weekdays": days,
                },
            )
            ts, _ = TrialSite.objects.get_or_create(
                trial=trial,
                site=site,
                defaults={
                    "status": TrialSite.Status.ACTIVE,
                    "ethics_approval_ref": f"{code}-EC-2026-{10 + i:03d}",
                    "ethics_approval_date": datetime.date(2026, 2, 1)
                    + datetime.timedelta(days=7 * i),
                    "activation_date": datetime.date(2026, 3, 1) + datetime.timedelta(days=7 * i),
                    "enrollment_target": 6 if i else 12,
                    "enrollment_cap": 10 if i else 20,
                },
            )
            out.append(ts)
        return out

    def staff(self, trial: Trial, trial_sites: list[TrialSite]) -> None:
        admin = self.user("admin", "Ada", "Admin", superuser=True)
        self.role(admin, Role.ADMINISTRATOR, where="all trials")
        dm = self.user("datamanager", "Dana", "Data", staff=True)
        self.role(dm, Role.DATA_MANAGER, where="all trials")
        lead = self.user("lead", "Li", "Lead")
        self.role(lead, Role.LEAD_INVESTIGATOR, trial=trial, where=trial.protocol_code)
        monitor = self.user("monitor", "Mo", "Monitor")
        self.role(monitor, Role.MONITOR, trial=trial, where=trial.protocol_code)
        for ts in trial_sites:
            code = ts.site.code.lower()
            crc = self.user(f"crc_{code}", "Coordinator", ts.site.code)
            self.role(crc, Role.COORDINATOR, trial_site=ts, where=ts.site.code)
            pi = self.user(f"pi_{code}", "Investigator", ts.site.code)
            self.role(pi, Role.SITE_INVESTIGATOR, trial_site=ts, where=ts.site.code)
            if ts.principal_investigator_id is None:
                with audit_context(reason="Demo setup"):
                    ts.principal_investigator = pi
                    ts.save()

    def patients(self, trial_sites: list[TrialSite]) -> int:
        created = 0
        today = datetime.date.today()
        for n, ts in enumerate(trial_sites):
            crc = Membership.objects.filter(trial_site=ts, role=Role.COORDINATOR).first().user
            existing = Patient.objects.filter(trial_site=ts).count()
            for k in range(existing, self.patients_per_site):
                rng = random.Random(f"{ts.site.code}-{k}")
                birth = today.replace(year=today.year - rng.randint(38, 74), day=1)
                expat = (n + k) % 4 == 1
                common = dict(
                    sex=rng.choice("FM"),
                    birth_date=birth,
                    phone=f"13{rng.randint(100000000, 999999999)}",
                    insurance_provider=rng.choice(
                        ["Urban employee basic medical insurance", "Private insurer", ""]
                    ),
                    insurance_covers_trial=rng.choice(["yes", "no", "unknown"]),
                    trial_injury_insurance=True,
                )
                if expat:
                    country, lang, name = EXPATS[(n + k) % len(EXPATS)]
                    data = dict(
                        full_name=name,
                        nationality=country,
                        is_expatriate=True,
                        id_document_type="passport",
                        id_document_number=f"{country}{rng.randint(10000000, 99999999)}",
                        preferred_language=lang,
                        interpreter_needed=lang not in ("en", "zh"),
                        residence_permit_expiry=today
                        + datetime.timedelta(days=rng.choice([200, 500, 900])),
                        **common,
                    )
                else:
                    data = dict(
                        full_name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                        nationality="CN",
                        is_expatriate=False,
                        id_document_type="resident_id",
                        id_document_number=resident_id(rng, birth),
                        preferred_language="zh",
                        **common,
                    )
                patient_register(trial_site=ts, acting_user=crc, confirm_duplicate=True, **data)
                created += 1
        return created

    @transaction.atomic
    def build(self) -> dict:
        trial = self.trial()
        trial_sites = self.sites(trial)
        self.staff(trial, trial_sites)
        created = self.patients(trial_sites)
        return {"trial": trial, "trial_sites": trial_sites, "patients_created": created}
