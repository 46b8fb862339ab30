"""Demo data of the public recruiting pages: the CRYO-ICC public page in English and
Simplified Chinese, every active site's clinic (the lead site: Dr Wang Peng's clinic on
Monday and Wednesday), the criteria in plain language and the pre-screening questions.
Idempotent. Addresses and phone numbers are fictitious."""

from __future__ import annotations

import datetime
from typing import Any

from sites.models import TrialSite
from trials.models import EligibilityCriterion, Trial

from .models import (
    CriterionPlainText,
    PrescreenOption,
    PrescreenQuestion,
    SiteClinic,
    TrialPublicPage,
)

PAGE = {
    "title_en": "Freezing the tumour plus targeted therapy and immunotherapy for advanced bile duct cancer in the liver",
    "title_zh_hans": "冷冻消融联合靶向和免疫治疗晚期肝内胆管癌",
    "summary_en": (
        "This study compares two treatments for intrahepatic cholangiocarcinoma (bile duct "
        "cancer inside the liver) that cannot be removed by surgery. Everyone receives "
        "lenvatinib tablets and toripalimab, an immunotherapy drip. Half of the participants, "
        "chosen at random, also have the tumour frozen through the skin (cryoablation). "
        "The study is open to foreign nationals living in China."
    ),
    "summary_zh_hans": (
        "本研究比较两种治疗无法手术切除的肝内胆管癌的方法。所有参与者都口服仑伐替尼并静脉输注"
        "免疫治疗药物特瑞普利单抗；随机选出的一半参与者还会接受经皮冷冻消融（把肿瘤冻住）。"
        "本研究也接受在华居住的外籍患者。"
    ),
    "participation_en": (
        "A first visit to check whether the study suits you (blood tests, CT or MRI scan)\n"
        "Lenvatinib tablets every day and a toripalimab drip every 3 weeks\n"
        "For half of the participants: cryoablation of the tumour in hospital\n"
        "A scan every 6 weeks to see how the tumour responds\n"
        "Follow-up for up to 2 years; visits on the clinic days of your hospital"
    ),
    "participation_zh_hans": (
        "首次就诊评估是否适合参加（抽血化验、CT 或磁共振检查）\n"
        "每天口服仑伐替尼，每 3 周输注一次特瑞普利单抗\n"
        "一半参与者住院接受肿瘤冷冻消融\n"
        "每 6 周做一次影像检查，评估肿瘤变化\n"
        "随访最长 2 年；在所选医院的门诊日就诊"
    ),
    "who_can_join_en": (
        "Adults aged 18 to 75 whose bile duct cancer in the liver was confirmed by a biopsy, "
        "who have not had chemotherapy, targeted therapy or immunotherapy for it, and who "
        "can look after themselves."
    ),
    "who_can_join_zh_hans": (
        "18 至 75 岁、经活检确诊肝内胆管癌、未因此接受过化疗、靶向或免疫治疗、生活能够自理的成年人。"
    ),
}

# code, city (zh), address (en), address (zh)
CLINICS = {
    "SH01": (
        "上海",
        "1200 Fenglin Road, Xuhui District, Building 3, 2nd floor",
        "徐汇区枫林路 1200 号 3 号楼 2 层",
    ),
    "BJ01": ("北京", "88 Dongdan North Street, Dongcheng District", "东城区东单北大街 88 号"),
    "GZ01": ("广州", "58 Zhongshan 2nd Road, Yuexiu District", "越秀区中山二路 58 号"),
    "HZ01": ("杭州", "79 Qingchun Road, Shangcheng District", "上城区庆春路 79 号"),
    "CD01": ("成都", "37 Guoxue Lane, Wuhou District", "武侯区国学巷 37 号"),
    "WH01": ("武汉", "1095 Jiefang Avenue, Qiaokou District", "硚口区解放大道 1095 号"),
    "NJ01": ("南京", "321 Zhongshan Road, Gulou District", "鼓楼区中山路 321 号"),
    "XA01": ("西安", "277 Yanta West Road, Yanta District", "雁塔区雁塔西路 277 号"),
    "TJ01": ("天津", "154 Anshan Road, Heping District", "和平区鞍山道 154 号"),
    "SY01": ("沈阳", "155 Nanjing North Street, Heping District", "和平区南京北街 155 号"),
    "CS01": ("长沙", "87 Xiangya Road, Kaifu District", "开福区湘雅路 87 号"),
    "CQ01": ("重庆", "1 Youyi Road, Yuzhong District", "渝中区友谊路 1 号"),
    "JN01": ("济南", "324 Jingwu Road, Huaiyin District", "槐荫区经五纬七路 324 号"),
    "ZZ01": ("郑州", "1 Jianshe East Road, Erqi District", "二七区建设东路 1 号"),
    "KM01": ("昆明", "295 Xichang Road, Wuhua District", "五华区西昌路 295 号"),
    "HB01": ("哈尔滨", "246 Xuefu Road, Nangang District", "南岗区学府路 246 号"),
    "FZ01": ("福州", "312 Xihong Road, Gulou District", "鼓楼区西洪路 312 号"),
    "XM01": ("厦门", "201 Hubin South Road, Siming District", "思明区湖滨南路 201 号"),
    "UR01": ("乌鲁木齐", "137 Liyushan South Road, Xinshi District", "新市区鲤鱼山南路 137 号"),
    "SZ01": ("深圳", "1120 Lianhua Road, Futian District", "福田区莲花路 1120 号"),
}

PLAIN = {
    "INC-AGE": ("You are 18 to 75 years old.", "年龄在 18 至 75 岁之间。"),
    "INC-HISTOLOGY": (
        "A biopsy or cytology has confirmed bile duct cancer inside the liver (intrahepatic cholangiocarcinoma).",
        "活检或细胞学检查确诊为肝内胆管癌。",
    ),
    "INC-UNRESECTABLE": (
        "The cancer cannot be removed by surgery, or it has spread.",
        "肿瘤无法手术切除，或已经转移。",
    ),
    "INC-NO-PRIOR-SYSTEMIC": (
        "You have not had chemotherapy, targeted therapy or immunotherapy for this cancer (treatment after surgery may be allowed).",
        "未因这种癌症接受过化疗、靶向或免疫治疗（术后辅助治疗可能允许）。",
    ),
    "INC-MEASURABLE": (
        "A scan shows a tumour that can be measured.",
        "影像检查显示有可测量的肿瘤。",
    ),
    "INC-CHILD-PUGH": ("Your liver still works well (blood tests).", "肝功能良好（血液检查）。"),
    "INC-ECOG": (
        "You can look after yourself and are up and about most of the day.",
        "生活能够自理，白天大部分时间可以活动。",
    ),
    "INC-LIFE-EXPECTANCY": (
        "Your doctor expects you to live at least 3 more months.",
        "医生估计预期生存期至少 3 个月。",
    ),
    "INC-PLATELETS": ("Blood counts (platelets) are high enough.", "血小板计数足够。"),
    "INC-NEUTROPHILS": ("Blood counts (white cells) are high enough.", "中性粒细胞计数足够。"),
    "INC-HAEMOGLOBIN": ("You are not too anaemic.", "没有严重贫血。"),
    "INC-BILIRUBIN": ("Bilirubin (a liver test) is not too high.", "胆红素（肝功能指标）不过高。"),
    "INC-TRANSAMINASES": ("Liver enzymes are not too high.", "肝酶不过高。"),
    "INC-CREATININE": ("Your kidneys work well enough.", "肾功能良好。"),
    "EXC-HISTOLOGY": (
        "The cancer is not liver-cell cancer (hepatocellular carcinoma) or a mixed type.",
        "不是肝细胞癌或混合型肝癌。",
    ),
    "EXC-OTHER-CANCER": (
        "You have not had another cancer in the last 5 years.",
        "近 5 年内没有患过其他癌症。",
    ),
    "EXC-RADIOTHERAPY": ("No radiotherapy in the last 4 weeks.", "近 4 周内未接受放疗。"),
    "EXC-MAJOR-SURGERY": ("No major operation in the last 4 weeks.", "近 4 周内未做过大手术。"),
    "EXC-CNS": ("The cancer has not spread to the brain.", "肿瘤没有转移到脑部。"),
    "EXC-PRIOR-CHECKPOINT": (
        "You have not had immunotherapy such as a PD-1 or PD-L1 antibody before.",
        "以前没有用过 PD-1、PD-L1 等免疫治疗药物。",
    ),
    "EXC-RECENT-LOCAL-THERAPY": (
        "No ablation, TACE or similar liver treatment in the 4 weeks before the first scan.",
        "首次影像检查前 4 周内没有接受消融、介入（TACE）等肝脏局部治疗。",
    ),
    "EXP-CONSENT-LANGUAGE": (
        "The trial information can be given to you in a language you understand (a translated form, or an interpreter and a witness).",
        "能用您理解的语言向您说明研究（翻译版知情同意书，或翻译加见证人）。",
    ),
    "EXP-PERMIT": (
        "Your residence permit or visa covers the 2 years of follow-up, or follow-up from abroad is agreed.",
        "居留许可或签证覆盖 2 年随访期，或已同意境外远程随访。",
    ),
    "EXP-ID-DOCUMENT": (
        "You bring your passport or permanent residence card.",
        "携带护照或外国人永久居留身份证。",
    ),
    "EXP-INSURANCE": (
        "Your insurance and who pays for treatment are recorded.",
        "登记保险情况和治疗费用承担方式。",
    ),
}

YES_NO_QUESTIONS: list[tuple[str, str, str, str, str, str]] = [
    # criterion, field, question en, question zh, help en, help zh
    (
        "INC-HISTOLOGY",
        "histology_confirmed",
        "Has a biopsy (a small tissue sample) or cytology confirmed the cancer?",
        "是否通过活检（取一小块组织）或细胞学检查确诊了癌症？",
        "Your pathology report says so.",
        "病理报告上会写明。",
    ),
    (
        "INC-UNRESECTABLE",
        "unresectable",
        "Have your doctors said the tumour cannot be removed by surgery?",
        "医生是否说过肿瘤无法手术切除？",
        "",
        "",
    ),
    (
        "INC-NO-PRIOR-SYSTEMIC",
        "prior_systemic_therapy",
        "Have you had chemotherapy, targeted therapy or immunotherapy for this cancer?",
        "是否因这种癌症接受过化疗、靶向治疗或免疫治疗？",
        "Tablets or drips against the cancer, also after an operation.",
        "包括口服或输液的抗癌药，也包括手术后的治疗。",
    ),
    (
        "EXC-PRIOR-CHECKPOINT",
        "prior_checkpoint_inhibitor",
        "Have you ever had immunotherapy (for example a PD-1 or PD-L1 antibody)?",
        "是否用过免疫治疗药物（例如 PD-1 或 PD-L1 抗体）？",
        "",
        "",
    ),
    (
        "EXC-CNS",
        "cns_metastases",
        "Have you been told the cancer has spread to the brain?",
        "是否被告知肿瘤已转移到脑部？",
        "",
        "",
    ),
]


def _criteria(trial: Trial) -> dict[str, EligibilityCriterion]:
    out: dict[str, EligibilityCriterion] = {}
    for c in EligibilityCriterion.objects.filter(trial=trial).order_by(
        "-protocol_version__effective_date"
    ):
        out.setdefault(c.code, c)  # the newest version's row per code
    return out


def _question(
    criterion: EligibilityCriterion, field: str, kind: str, order: int, **texts: Any
) -> PrescreenQuestion:
    question, _ = PrescreenQuestion.objects.get_or_create(
        criterion=criterion,
        field=field,
        defaults={"kind": kind, "order": order, **texts},
    )
    return question


def _options(question: PrescreenQuestion, options: list[tuple[str, str, dict[str, Any]]]) -> None:
    if question.options.exists():
        return
    for order, (en, zh, values) in enumerate(options):
        PrescreenOption.objects.create(
            question=question, label_en=en, label_zh_hans=zh, values=values, order=order
        )


def load(trial: Trial) -> None:
    """Public page, clinics, plain-language criteria and questions of ``trial``."""
    TrialPublicPage.objects.get_or_create(trial=trial, defaults={"is_published": True, **PAGE})
    trial_sites = list(TrialSite.objects.filter(trial=trial).select_related("site").order_by("pk"))
    # The lead site (SH01 in the demo; else the trial's first site) is Dr Wang Peng's clinic.
    lead_pk = next((ts.pk for ts in trial_sites if ts.site.code == "SH01"), None)
    lead_pk = lead_pk or (trial_sites[0].pk if trial_sites else None)
    for ts in trial_sites:
        city_zh, address_en, address_zh = CLINICS.get(ts.site.code, (ts.site.city, "", ""))
        lead = ts.pk == lead_pk
        SiteClinic.objects.get_or_create(
            trial_site=ts,
            defaults={
                "city_en": ts.site.city,
                "city_zh_hans": city_zh,
                "address_en": address_en or ts.site.city,
                "address_zh_hans": address_zh or city_zh,
                "clinic_name_en": "Trial clinic of Dr Wang Peng"
                if lead
                else "Hepatobiliary trial clinic",
                "clinic_name_zh_hans": "王鹏医生临床研究门诊" if lead else "肝胆肿瘤临床研究门诊",
                "doctor_en": "Dr Wang Peng" if lead else "",
                "doctor_zh_hans": "王鹏 医生" if lead else "",
                "opens_at": datetime.time(8, 0),
                "closes_at": datetime.time(12, 0),
                "contact_phone": f"+86 21 6404 {1000 + ts.pk:04d}"
                if lead
                else f"+86 400 820 {1000 + ts.pk:04d}",
                "contact_email": f"trials.{ts.site.code.lower()}@example.org",
                "daily_capacity": 4 if lead else 3,
                "weeks_ahead": 4,
            },
        )
    criteria = _criteria(trial)
    for code, (en, zh) in PLAIN.items():
        if code in criteria:
            CriterionPlainText.objects.get_or_create(
                criterion=criteria[code], defaults={"text_en": en, "text_zh_hans": zh}
            )
    if "INC-AGE" in criteria:
        _question(
            criteria["INC-AGE"],
            "birth_date",
            "age",
            10,
            text_en="How old are you?",
            text_zh_hans="您今年多少岁？",
            help_text_en="In years.",
            help_text_zh_hans="按周岁填写。",
        )
    if "INC-HISTOLOGY" in criteria:
        q = _question(
            criteria["INC-HISTOLOGY"],
            "histology",
            "choice",
            20,
            text_en="Which cancer did your doctors diagnose?",
            text_zh_hans="医生诊断的是哪种癌症？",
        )
        _options(
            q,
            [
                (
                    "Bile duct cancer inside the liver (intrahepatic cholangiocarcinoma)",
                    "肝内胆管癌",
                    {"histology": "icca"},
                ),
                (
                    "Bile duct cancer outside the liver or gallbladder cancer",
                    "肝外胆管癌或胆囊癌",
                    {"histology": "dcca"},
                ),
                (
                    "Liver-cell cancer (hepatocellular carcinoma, HCC)",
                    "肝细胞癌",
                    {"histology": "hcc"},
                ),
                ("A mixed type of liver cancer", "混合型肝癌", {"histology": "mixed_hcc_cca"}),
                ("I don't know", "不清楚", {}),
            ],
        )
    for order, (code, field, en, zh, help_en, help_zh) in enumerate(YES_NO_QUESTIONS, start=30):
        if code in criteria:
            _question(
                criteria[code],
                field,
                "yes_no",
                order,
                text_en=en,
                text_zh_hans=zh,
                help_text_en=help_en,
                help_text_zh_hans=help_zh,
            )
    if "INC-ECOG" in criteria:
        q = _question(
            criteria["INC-ECOG"],
            "ecog",
            "choice",
            50,
            text_en="How are you managing day to day?",
            text_zh_hans="您目前的日常生活状况如何？",
        )
        _options(
            q,
            [
                ("Normal activities, no limits", "正常活动，不受限制", {"ecog": 0}),
                (
                    "I can do light work, but not heavy physical work",
                    "能做轻体力活，不能做重体力活",
                    {"ecog": 1},
                ),
                (
                    "I look after myself but cannot work; up more than half the day",
                    "生活能自理但不能工作，白天一半以上时间可以下床活动",
                    {"ecog": 2},
                ),
                (
                    "I need help with care, in bed or a chair more than half the day",
                    "需要别人照顾，白天一半以上时间卧床或坐着",
                    {"ecog": 3},
                ),
            ],
        )
    if "EXC-OTHER-CANCER" in criteria:
        q = _question(
            criteria["EXC-OTHER-CANCER"],
            "other_malignancy",
            "choice",
            60,
            text_en="Have you had any other cancer?",
            text_zh_hans="是否患过其他癌症？",
            help_text_en="Not counting treated skin cancer (not melanoma).",
            help_text_zh_hans="已治愈的非黑色素瘤皮肤癌不算。",
        )
        _options(
            q,
            [
                ("No", "没有", {"other_malignancy": False}),
                (
                    "Yes, in the last 5 years",
                    "有，在近 5 年内",
                    {"other_malignancy": True, "other_malignancy_date": "@today"},
                ),
                ("Yes, more than 5 years ago", "有，在 5 年以前", {"other_malignancy": True}),
            ],
        )
    if "EXP-PERMIT" in criteria:
        q = _question(
            criteria["EXP-PERMIT"],
            "residence_permit_expiry_date",
            "date",
            70,
            text_en="Until when is your residence permit or visa valid?",
            text_zh_hans="您的居留许可或签证有效期到哪一天？",
            help_text_en="The trial follows participants for up to 2 years.",
            help_text_zh_hans="本研究随访最长 2 年。",
        )
        if not q.expatriate_only:
            q.expatriate_only = True
            q.save()
