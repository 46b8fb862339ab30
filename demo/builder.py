"""Demo data: the flagship cryoablation trial at ~20 sites, staff for every role, and
registered patients including expatriates. Idempotent: running it again adds nothing
that is already there. Sites, hospitals and identifiers are fictitious."""

from __future__ import annotations

import datetime
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from audit.context import audit_context
from clinical.demo import clinical_demo
from patients.models import Patient
from patients.services import patient_register
from patients.services.response import response_recompute, response_recompute_deferred
from sites.demo import DEMO_PASSWORD, at
from sites.models import Membership, Site, TrialSite
from sites.roles import Role
from trials.models import (
    Arm,
    ConsentVersion,
    Intervention,
    ProtocolVersion,
    Trial,
    VisitDefinition,
)

# The journeys live in journey.py; their tables stay importable from here.
from .journey import AE_TERMS as AE_TERMS
from .journey import SCENARIOS, PatientJourney
from .journey import SCREENING_ANSWERS as SCREENING_ANSWERS

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

#: the sites' names in Chinese (``Site.name_local``), shown to readers in Chinese
SITE_NAMES_ZH = {
    "SH01": "上海肝胆中心（牵头单位）",
    "BJ01": "北京肝胆医院",
    "GZ01": "广州肝胆研究所",
    "HZ01": "杭州消化肿瘤医院",
    "CD01": "成都华西肝脏中心",
    "WH01": "武汉同济肝胆病区",
    "NJ01": "南京鼓楼肝病门诊",
    "XA01": "西安西北肝胆医院",
    "TJ01": "天津肿瘤肝胆中心",
    "SY01": "沈阳东北肝病研究所",
    "CS01": "长沙湘雅肝胆病区",
    "CQ01": "重庆西南肝胆医院",
    "JN01": "济南山东肝病中心",
    "ZZ01": "郑州中原肿瘤医院",
    "KM01": "昆明云南肝胆医院",
    "HB01": "哈尔滨北方肝病医院",
    "FZ01": "福州孟超肝胆中心",
    "XM01": "厦门国际肝病门诊",
    "UR01": "乌鲁木齐新疆肝胆中心",
    "SZ01": "深圳湾肝胆医院",
}

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
    def __init__(
        self,
        *,
        sites: int,
        patients_per_site: int,
        seed: int = 20261123,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.progress = progress or (lambda message: None)
        self.started = time.monotonic()
        self.enrolled_at_site: dict[int, int] = {}
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
                title_zh="冷冻消融联合仑伐替尼及PD-1抑制剂对比仑伐替尼及PD-1抑制剂治疗晚期肝内胆管癌："
                "随机、开放标签、多中心II期试验",
                short_title="Cryoablation + targeted + immunotherapy in advanced iCCA",
                short_title_zh="晚期肝内胆管癌冷冻消融+靶向+免疫治疗",
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
            defaults={
                "name": "Cryoablation + lenvatinib + toripalimab",
                "name_zh": "冷冻消融 + 仑伐替尼 + 特瑞普利单抗",
                "allocation_ratio": 1,
            },
        )
        b, _ = Arm.objects.get_or_create(
            trial=trial,
            code="B",
            defaults={
                "name": "Lenvatinib + toripalimab",
                "name_zh": "仑伐替尼 + 特瑞普利单抗",
                "allocation_ratio": 1,
                "is_control": True,
            },
        )
        for kind, name, name_zh, dose, route, schedule, arms, zh in [
            (
                "procedure",
                "Percutaneous cryoablation",
                "经皮冷冻消融",
                "Argon-helium, 2 freeze-thaw cycles",
                "CT-guided percutaneous",
                "Day 1; repeat for residual disease",
                [a],
                ("氩氦刀，2 个冻融循环", "CT 引导下经皮", "第 1 天；残留病灶可重复"),
            ),
            (
                "drug",
                "Lenvatinib",
                "仑伐替尼",
                "8 mg (<60 kg) / 12 mg (>=60 kg)",
                "oral",
                "once daily",
                [a, b],
                ("8 mg（体重 <60 kg）/ 12 mg（体重 ≥60 kg）", "口服", "每日一次"),
            ),
            (
                "biological",
                "Toripalimab (anti-PD-1)",
                "特瑞普利单抗（抗PD-1）",
                "240 mg",
                "IV",
                "every 3 weeks",
                [a, b],
                ("240 mg", "静脉输注", "每 3 周一次"),
            ),
        ]:
            iv, created = Intervention.objects.get_or_create(
                trial=trial,
                name=name,
                defaults={
                    "kind": kind,
                    "name_zh": name_zh,
                    "dose": dose,
                    "dose_zh": zh[0],
                    "route": route,
                    "route_zh": zh[1],
                    "schedule": schedule,
                    "schedule_zh": zh[2],
                },
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
                    "name_local": SITE_NAMES_ZH.get(code, ""),
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

    def say(self, message: str) -> None:
        """Progress for the person waiting (``seed_demo`` prints it with the time so far)."""
        self.progress(f"[{time.monotonic() - self.started:5.1f} s] {message}")

    def patients(self, trial_sites: list[TrialSite]) -> int:
        created = 0
        today = timezone.localdate()
        for n, ts in enumerate(trial_sites):
            crc = Membership.objects.filter(trial_site=ts, role=Role.COORDINATOR).first().user
            existing = Patient.objects.filter(trial_site=ts).count()
            if existing < self.patients_per_site:
                self.say(
                    f"site {n + 1}/{len(trial_sites)} {ts.site.code}: "
                    f"{self.patients_per_site - existing} patients through their journeys"
                )
            for k in range(existing, self.patients_per_site):
                rng = random.Random(f"{ts.site.code}-{k}")
                birth = today.replace(year=today.year - rng.randint(38, 74), day=1)
                expat = (n + k) % 4 == 1
                common = dict(
                    sex=rng.choice("FM"),
                    birth_date=birth,
                    phone=f"13{rng.randint(100000000, 999999999)}",
                    insurance_provider=rng.choice(
                        ["城镇职工基本医疗保险", "城乡居民基本医疗保险", "商业保险", ""]
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
                scenario = SCENARIOS[(k + n) % len(SCENARIOS)]
                start = today - datetime.timedelta(days=20 + ((n * 37 + k * 53) % 220))
                if scenario in ("registered", "screen_failed", "eligible", "consented"):
                    start = today - datetime.timedelta(days=3 + (n + k) % 20)
                with at(start - datetime.timedelta(days=10)):
                    patient = patient_register(
                        trial_site=ts, acting_user=crc, confirm_duplicate=True, **data
                    )
                with response_recompute_deferred():  # one recomputation per journey
                    PatientJourney(self, patient, crc, scenario, start, rng).run()
                created += 1
        return created

    def protocol(self, trial: Trial) -> None:
        """Eligibility criteria, consent versions and the visit schedule of the trial."""
        from trials.services import criteria_load_defaults

        version = trial.protocol_versions.get(version="1.0")
        criteria_load_defaults(protocol_version=version, acting_user=None)
        for language, ref in (
            ("zh", "SH01-IRB-2025-118-ICF-ZH"),
            ("en", "SH01-IRB-2026-044-ICF-EN"),
            ("ru", "SH01-IRB-2026-044-ICF-RU"),
            ("ko", "SH01-IRB-2026-044-ICF-KO"),
        ):
            ConsentVersion.objects.get_or_create(
                trial=trial,
                version="1.1",
                language=language,
                defaults={
                    "ethics_approval_ref": ref,
                    "approved_on": datetime.date(2026, 1, 10),
                    "effective_from": datetime.date(2026, 1, 15),
                },
            )
        schedule = (
            [
                ("D0", "Day 0: first treatment", "第0天：首次治疗", 0, 0, 2, False),
                ("W3", "Week 3: cycle 2", "第3周：第2周期", 21, 3, 3, False),
                ("W6", "Week 6: imaging", "第6周：影像评估", 42, 7, 7, True),
                ("W9", "Week 9: cycle 4", "第9周：第4周期", 63, 3, 3, False),
                ("W12", "Week 12: imaging", "第12周：影像评估", 84, 7, 7, True),
            ]
            + [
                (f"W{w}", f"Week {w}: imaging", f"第{w}周：影像评估", 7 * w, 7, 7, True)
                for w in range(18, 54, 6)
            ]
            + [
                (
                    f"M{m}",
                    f"Month {m}: survival follow-up",
                    f"第{m}个月：生存随访",
                    int(m * 30.44),
                    14,
                    14,
                    False,
                )
                for m in (15, 18, 21, 24)
            ]
        )
        for order, (code, name, name_zh, day, before, after, imaging) in enumerate(schedule):
            VisitDefinition.objects.get_or_create(
                trial=trial,
                code=code,
                defaults={
                    "name": name,
                    "name_zh": name_zh,
                    "day_offset": day,
                    "window_before": before,
                    "window_after": after,
                    "tumor_assessment": imaging,
                    "order": order,
                    "anchor": VisitDefinition.Anchor.ENROLLMENT,
                },
            )

    @transaction.atomic
    def build(self) -> dict:
        self.say("trial, arms and protocol version")
        trial = self.trial()
        self.say(f"{self.site_count} sites")
        trial_sites = self.sites(trial)
        self.say("staff accounts and roles")
        self.staff(trial, trial_sites)
        self.say("eligibility criteria, consent versions, visit schedule")
        self.protocol(trial)
        created = self.patients(trial_sites)
        clinical_demo(trial)
        # The clinical demo's procedures and lesion flags change outcomes after the
        # journeys were recomputed: one last recomputation per enrolled patient.
        with response_recompute_deferred():
            for patient in Patient.objects.filter(
                trial_site__trial=trial, enrollment__isnull=False
            ).select_related("trial_site__trial"):
                response_recompute(patient=patient)
        self.say(f"{created} new patients")
        return {"trial": trial, "trial_sites": trial_sites, "patients_created": created}
