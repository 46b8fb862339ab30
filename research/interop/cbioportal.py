"""A cBioPortal study directory from a research dataset.

Why one module: a study is one set of files that refer to each other (samples to
patients, case lists to samples, the meta files to their data files); writing them in
one place keeps those references in one vocabulary, and the test-side checker reads
them as one study.

Written from cBioPortal's documented file formats (docs.cbioportal.org "File Formats" and
"Data Loading"; our own code, nothing of cBioPortal's is copied): ``meta_study.txt``; the
clinical patient and sample files with their four ``#`` header rows (display names,
descriptions, datatypes STRING / NUMBER / BOOLEAN, priorities) before the attribute row;
mutations as a MAF; structural variants (fusions); discrete copy number (-2..2); timelines
of diagnoses and treatments (days from the person's first diagnosis); case lists.

- PATIENT_ID is the subject id (one patient per person, whatever the number of centers);
  a SAMPLE_ID per molecular test (``<subject>-T<n>``). A person without a test gets one
  sample per diagnosis (``<subject>-D<n>``) so that the clinical data still loads; those
  samples are in no profiled case list.
- ONCOTREE_CODE from the registry's cancer: hcc HCC, icca IHCH, pcca / dcca EHCH, gbc GBC,
  chcc_cca HCCIHCH (CANCER_TYPE "Hepatobiliary Cancer").
- OS_STATUS ``1:DECEASED`` / ``0:LIVING``; OS_MONTHS from the first diagnosis to death or
  last contact (days / 30.4375); DFS_STATUS ``1:Recurred/Progressed`` / ``0:DiseaseFree``,
  DFS_MONTHS from the first treatment to recurrence, progression or death (else the last
  contact). Dates are the shifted ones; intervals are exact.
- Mutations on GRCh38 (reference_genome hg38); Variant_Classification derived from the
  HGVS protein / coding change (``Unknown`` when neither says). No gene panel files: the
  tests' covered genes decide 0 versus NA in the CNA matrix.
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .dataset import Person, ResearchDataset, persons

ONCOTREE = {
    "hcc": ("HCC", "Hepatocellular Carcinoma"),
    "icca": ("IHCH", "Intrahepatic Cholangiocarcinoma"),
    "pcca": ("EHCH", "Extrahepatic Cholangiocarcinoma"),
    "dcca": ("EHCH", "Extrahepatic Cholangiocarcinoma"),
    "gbc": ("GBC", "Gallbladder Cancer"),
    "chcc_cca": ("HCCIHCH", "Hepatocellular Carcinoma plus Intrahepatic Cholangiocarcinoma"),
}
CANCER_TYPE = "Hepatobiliary Cancer"
SEQUENCING = {"panel", "wes", "wgs", "pcr"}
CNA_VALUES = {"amplification": 2, "gain": 1, "loss": -1, "deep_deletion": -2}
DAYS_PER_MONTH = 30.4375

_AA = {
    "Ala": "A", "Arg": "R", "Asn": "N", "Asp": "D", "Cys": "C", "Gln": "Q", "Glu": "E",
    "Gly": "G", "His": "H", "Ile": "I", "Leu": "L", "Lys": "K", "Met": "M", "Phe": "F",
    "Pro": "P", "Ser": "S", "Thr": "T", "Trp": "W", "Tyr": "Y", "Val": "V", "Ter": "*",
    "Sec": "U", "Pyl": "O", "Xaa": "X",
}  # fmt: skip
_AA3 = re.compile("|".join(_AA))
_MISSENSE = re.compile(r"^p\.[A-Z]\d+[A-Z]$")
_BREAKPOINT = re.compile(r"^(?:chr)?([0-9]{1,2}|X|Y|MT?):(\d+)", re.IGNORECASE)


def hgvsp_short(hgvs_p: str) -> str:
    """``p.Arg132Cys`` → ``p.R132C`` (one-letter amino acids; parentheses dropped)."""
    text = hgvs_p.strip().replace("(", "").replace(")", "")
    return _AA3.sub(lambda m: _AA[m.group(0)], text)


def variant_classification(hgvs_p: str, hgvs_c: str) -> str:
    """A MAF Variant_Classification from the HGVS changes (the documented allowed list)."""
    p = hgvsp_short(hgvs_p) if hgvs_p else ""
    c = hgvs_c or ""
    if p:
        if p in ("p.=", "p.0?") or p.endswith("="):
            return "Silent" if p != "p.0?" else "Unknown"
        if "fs" in p:
            return "Frame_Shift_Ins" if ("ins" in c or "dup" in c) else "Frame_Shift_Del"
        if "ext" in p:
            return "Nonstop_Mutation"
        if re.match(r"^p\.M1[^0-9]", p):
            return "Translation_Start_Site"
        if "delins" in p or "del" in p:
            return "In_Frame_Del"
        if "ins" in p or "dup" in p:
            return "In_Frame_Ins"
        if p.endswith("*"):
            return "Nonsense_Mutation"
        if _MISSENSE.match(p):
            return "Missense_Mutation"
    if re.search(r"\d[+-][12][ACGT]", c) or re.search(r"\d[+-][12]_", c):
        return "Splice_Site"
    if re.search(r"\d[+-]\d+", c):
        return "Intron"
    return "Unknown"


def _variant_type(ref: str, alt: str) -> str:
    if not ref or not alt:
        return ""
    if ref == "-" or (len(ref) < len(alt) and alt.startswith(ref)):
        return "INS"
    if alt == "-" or (len(ref) > len(alt) and ref.startswith(alt)):
        return "DEL"
    if len(ref) == len(alt):
        return {1: "SNP", 2: "DNP", 3: "TNP"}.get(len(ref), "ONP")
    return "ONP"


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "NA"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, datetime.date):
        return value.isoformat()
    return re.sub(r"[\t\r\n]+", " ", str(value))


def _tsv(path: Path, rows: Iterable[Sequence[Any]], *, raw: bool = False) -> Path:
    """Tab-separated, UTF-8, ``\\n`` line ends; ``raw`` rows are written as given."""
    with path.open("w", encoding="utf-8", newline="\n") as stream:
        for row in rows:
            cells = [str(v) for v in row] if raw else [_cell(v) for v in row]
            stream.write("\t".join(cells) + "\n")
    return path


def _meta(path: Path, fields: dict[str, str]) -> Path:
    with path.open("w", encoding="utf-8", newline="\n") as stream:
        for k, v in fields.items():
            text = re.sub(r"[\r\n]+", " ", v)
            if k != "case_list_ids":
                text = text.replace("\t", " ")
            stream.write(f"{k}: {text}".rstrip() + "\n")
    return path


def _clinical(
    path: Path, attributes: Sequence[tuple[str, str, str, str, int]], rows: list[list[Any]]
) -> Path:
    """(attribute, display name, description, datatype, priority) and the rows."""
    header: list[list[Any]] = [
        ["#" + a[1] if i == 0 else a[1] for i, a in enumerate(attributes)],
        ["#" + a[2] if i == 0 else a[2] for i, a in enumerate(attributes)],
        ["#" + a[3] if i == 0 else a[3] for i, a in enumerate(attributes)],
        ["#" + str(a[4]) if i == 0 else str(a[4]) for i, a in enumerate(attributes)],
        [a[0] for a in attributes],
    ]
    with path.open("w", encoding="utf-8", newline="\n") as stream:
        for line in header:
            stream.write("\t".join(line) + "\n")
        for row in rows:
            stream.write("\t".join(_cell(v) for v in row) + "\n")
    return path


PATIENT_ATTRIBUTES: tuple[tuple[str, str, str, str, int], ...] = (
    ("PATIENT_ID", "Patient Identifier", "Research subject id (pseudonymised)", "STRING", 1),
    ("SEX", "Sex", "Sex", "STRING", 9),
    ("AGE", "Age at diagnosis", "Age at the first diagnosis, in years", "NUMBER", 8),
    ("YEAR_OF_BIRTH", "Year of birth", "Year of birth", "NUMBER", 1),
    ("CENTER_COUNT", "Centers", "Number of registry centers recording the person", "NUMBER", 1),
    ("EXPATRIATE", "Expatriate", "Expatriate patient", "BOOLEAN", 1),
    ("HBV", "Hepatitis B", "Hepatitis B", "BOOLEAN", 1),
    ("HCV", "Hepatitis C", "Hepatitis C", "BOOLEAN", 1),
    ("ALCOHOL", "Alcohol", "Alcohol-related liver disease", "BOOLEAN", 1),
    ("MASLD", "MASLD", "Metabolic dysfunction-associated steatotic liver disease", "BOOLEAN", 1),
    ("LIVER_FLUKES", "Liver flukes", "Liver flukes (Clonorchis / Opisthorchis)", "BOOLEAN", 1),
    ("PSC", "PSC", "Primary sclerosing cholangitis", "BOOLEAN", 1),
    ("HEPATOLITHIASIS", "Hepatolithiasis", "Hepatolithiasis", "BOOLEAN", 1),
    ("CIRRHOSIS", "Cirrhosis", "Cirrhosis", "BOOLEAN", 1),
    ("OS_STATUS", "Overall Survival Status", "Overall survival status", "STRING", 1),
    (
        "OS_MONTHS",
        "Overall Survival (Months)",
        "Overall survival in months since the first diagnosis",
        "NUMBER",
        1,
    ),
    ("CAUSE_OF_DEATH", "Cause of death", "Cause of death", "STRING", 1),
    (
        "DFS_STATUS",
        "Disease Free Status",
        "Recurrence, progression or death after the first treatment",
        "STRING",
        1,
    ),
    (
        "DFS_MONTHS",
        "Disease Free (Months)",
        "Months from the first treatment to recurrence, progression, death or last contact",
        "NUMBER",
        1,
    ),
)
SAMPLE_ATTRIBUTES: tuple[tuple[str, str, str, str, int], ...] = (
    ("PATIENT_ID", "Patient Identifier", "Research subject id (pseudonymised)", "STRING", 1),
    ("SAMPLE_ID", "Sample Identifier", "One sample per molecular test", "STRING", 1),
    ("CANCER_TYPE", "Cancer Type", "Cancer type (OncoTree)", "STRING", 3000),
    ("CANCER_TYPE_DETAILED", "Cancer Type Detailed", "Detailed cancer type", "STRING", 2000),
    ("ONCOTREE_CODE", "Oncotree Code", "OncoTree code", "STRING", 1),
    ("SAMPLE_TYPE", "Sample Type", "Primary or metastasis", "STRING", 1),
    ("ICD_O_3_HISTOLOGY", "ICD-O-3 histology", "ICD-O-3 morphology", "STRING", 1),
    ("ICD_O_3_SITE", "ICD-O-3 site", "ICD-O-3 topography", "STRING", 1),
    ("CENTER", "Center", "Registry center of the test or diagnosis", "STRING", 1),
    ("TEST_TYPE", "Test type", "Panel, WES, WGS, IHC, FISH or PCR", "STRING", 1),
    ("SPECIMEN", "Specimen", "Tumour tissue, plasma (ctDNA) or germline", "STRING", 1),
    ("DAYS_FROM_DIAGNOSIS", "Days from diagnosis", "Test date minus diagnosis", "NUMBER", 1),
    ("TMB", "TMB (mut/Mb)", "Tumour mutational burden, mutations per megabase", "NUMBER", 1),
    ("PANEL_SIZE_MB", "Panel size (Mb)", "Size of the sequenced panel", "NUMBER", 1),
    ("MSI_STATUS", "MSI / MMR", "Microsatellite / mismatch-repair status", "STRING", 1),
    ("PDL1_TPS", "PD-L1 TPS (%)", "PD-L1 tumour proportion score", "NUMBER", 1),
    ("PDL1_CPS", "PD-L1 CPS", "PD-L1 combined positive score", "NUMBER", 1),
    ("HER2", "HER2", "HER2 IHC score or amplification", "STRING", 1),
)
CLINICAL_SAMPLE_WIDTH = [a[0] for a in SAMPLE_ATTRIBUTES].index("TEST_TYPE")
MAF_COLUMNS = (
    "Hugo_Symbol",
    "Center",
    "NCBI_Build",
    "Chromosome",
    "Start_Position",
    "End_Position",
    "Strand",
    "Variant_Classification",
    "Variant_Type",
    "Reference_Allele",
    "Tumor_Seq_Allele1",
    "Tumor_Seq_Allele2",
    "Tumor_Sample_Barcode",
    "Mutation_Status",
    "HGVSc",
    "HGVSp_Short",
    "t_vaf",
    "Clinical_Significance",
)
SV_COLUMNS = (
    "Sample_Id",
    "Site1_Hugo_Symbol",
    "Site1_Chromosome",
    "Site1_Position",
    "Site2_Hugo_Symbol",
    "Site2_Chromosome",
    "Site2_Position",
    "Site2_Effect_On_Frame",
    "NCBI_Build",
    "DNA_Support",
    "RNA_Support",
    "Event_Info",
    "SV_Status",
)


def _months(start: datetime.date | None, end: datetime.date | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).days / DAYS_PER_MONTH, 2)


def _disease_free(
    dataset: ResearchDataset, people: list[Person]
) -> dict[str, tuple[str, float | None]]:
    """(DFS_STATUS, DFS_MONTHS) per treated subject: from the first treatment (any center)
    to the first recurrence / progression or death after it, else to the last contact."""
    first: dict[str, datetime.date] = {}
    for t in dataset.records("treatments"):
        if t["subject_id"] not in first or t["start_date"] < first[t["subject_id"]]:
            first[t["subject_id"]] = t["start_date"]
    events: dict[str, list[datetime.date]] = defaultdict(list)
    for f in dataset.records("follow_ups"):
        if f["event"] in ("recurrence", "progression") and f["event_date"]:
            events[f["subject_id"]].append(f["event_date"])
    out: dict[str, tuple[str, float | None]] = {}
    for p in people:
        start = first.get(p.subject_id)
        if start is None:
            continue
        after = sorted(d for d in [*events.get(p.subject_id, []), p.death_date] if d and d >= start)
        if after:
            out[p.subject_id] = ("1:Recurred/Progressed", _months(start, after[0]))
        elif p.last_contact:
            out[p.subject_id] = ("0:DiseaseFree", _months(start, p.last_contact))
    return out


def _patient_rows(dataset: ResearchDataset, people: list[Person]) -> list[list[Any]]:
    rows = []
    disease_free = _disease_free(dataset, people)
    for p in people:
        end = p.death_date or p.last_contact
        dfs_status, dfs_months = disease_free.get(p.subject_id, (None, None))
        rows.append(
            [
                p.subject_id,
                {"F": "Female", "M": "Male"}.get(p.sex, p.sex),
                p.age_at_diagnosis,
                p.year_of_birth,
                len(p.centers),
                p.is_expatriate,
                *(p.risk[f] for f in p.risk),
                "1:DECEASED" if p.death_date else ("0:LIVING" if p.last_contact else None),
                _months(p.first_diagnosis, end),
                p.cause_of_death,
                dfs_status,
                dfs_months,
            ]
        )
    return rows


def write_study(
    dataset: ResearchDataset,
    directory: Path,
    *,
    study_id: str,
    name: str,
    description: str,
) -> list[Path]:
    """Write the study into ``directory``; the paths written (see the module docstring)."""
    if not re.fullmatch(r"[A-Za-z0-9_]+", study_id):
        raise ValueError("A cBioPortal study id is letters, digits and underscores.")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "case_lists").mkdir(exist_ok=True)
    people = persons(dataset)
    first_dx = {p.subject_id: p.first_diagnosis for p in people}
    tumours = dataset.records("tumours")
    tumour_of: dict[tuple[str, str, int], dict[str, Any]] = {
        (t["subject_id"], t["center"], t["tumour_id"]): t for t in tumours
    }
    first_tumour: dict[str, dict[str, Any]] = {}
    for t in sorted(tumours, key=lambda t: (t["diagnosis_date"], t["tumour_id"])):
        first_tumour.setdefault(t["subject_id"], t)
    written: list[Path] = []

    codes = sorted({ONCOTREE.get(t["category"], ("MIXED", ""))[0] for t in tumours})
    written.append(
        _meta(
            directory / "meta_study.txt",
            {
                "type_of_cancer": codes[0].lower() if len(codes) == 1 else "mixed",
                "cancer_study_identifier": study_id,
                "name": name,
                "description": description,
                **({"reference_genome": "hg38"} if dataset.has_genomics else {}),
                "add_global_case_list": "false",
            },
        )
    )

    written.append(
        _meta(
            directory / "meta_clinical_patient.txt",
            {
                "cancer_study_identifier": study_id,
                "genetic_alteration_type": "CLINICAL",
                "datatype": "PATIENT_ATTRIBUTES",
                "data_filename": "data_clinical_patient.txt",
            },
        )
    )
    written.append(
        _clinical(
            directory / "data_clinical_patient.txt",
            PATIENT_ATTRIBUTES,
            _patient_rows(dataset, people),
        )
    )

    # samples: one per molecular test; a person without a test, one per diagnosis
    samples: list[list[Any]] = []
    sequenced: list[str] = []
    tests = dataset.records("genomic_tests")
    tested = {t["subject_id"] for t in tests}
    coverage: dict[str, tuple[str, set[str]]] = {}
    for t in tests:
        tumour = (
            tumour_of.get((t["subject_id"], t["center"], t["tumour_id"]))
            if t["tumour_id"]
            else None
        ) or first_tumour.get(t["subject_id"])
        samples.append(_sample_row(t["subject_id"], t["sample_id"], tumour, t, first_dx))
        coverage[t["sample_id"]] = (t["kind"], set(filter(None, t["genes_covered"].split(";"))))
    profiled = {
        r["sample_id"]
        for table in ("variants", "fusions", "copy_numbers")
        for r in dataset.records(table)
    }
    sequenced = [
        t["sample_id"] for t in tests if t["kind"] in SEQUENCING or t["sample_id"] in profiled
    ]
    counter: dict[str, int] = defaultdict(int)
    for t in sorted(tumours, key=lambda t: (t["subject_id"], t["diagnosis_date"], t["tumour_id"])):
        if t["subject_id"] in tested:
            continue
        counter[t["subject_id"]] += 1
        sample_id = f"{t['subject_id']}-D{counter[t['subject_id']]}"
        samples.append(_sample_row(t["subject_id"], sample_id, t, None, first_dx))
    written.append(
        _meta(
            directory / "meta_clinical_sample.txt",
            {
                "cancer_study_identifier": study_id,
                "genetic_alteration_type": "CLINICAL",
                "datatype": "SAMPLE_ATTRIBUTES",
                "data_filename": "data_clinical_sample.txt",
            },
        )
    )
    # without genomics the test columns are left out, not left empty
    width = len(SAMPLE_ATTRIBUTES) if dataset.has_genomics else CLINICAL_SAMPLE_WIDTH
    written.append(
        _clinical(
            directory / "data_clinical_sample.txt",
            SAMPLE_ATTRIBUTES[:width],
            [row[:width] for row in samples],
        )
    )

    lists: list[tuple[str, str, str, list[str]]] = [
        ("all", "All samples", "all_cases_in_study", [s[1] for s in samples])
    ]
    if dataset.has_genomics and sequenced:
        written += _genomics(dataset, directory, study_id, sequenced, coverage)
        lists += [
            ("sequenced", "Samples with mutation data", "all_cases_with_mutation_data", sequenced),
            ("cna", "Samples with copy-number data", "all_cases_with_cna_data", sequenced),
            (
                "cnaseq",
                "Samples with mutation and copy-number data",
                "all_cases_with_mutation_and_cna_data",
                sequenced,
            ),
            ("sv", "Samples with structural variant data", "all_cases_with_sv_data", sequenced),
        ]
    for suffix, list_name, category, ids in lists:
        written.append(
            _meta(
                directory / "case_lists" / f"cases_{suffix}.txt",
                {
                    "cancer_study_identifier": study_id,
                    "stable_id": f"{study_id}_{suffix}",
                    "case_list_name": list_name,
                    "case_list_description": f"{list_name} ({len(ids)} samples)",
                    "case_list_category": category,
                    "case_list_ids": "\t".join(ids),
                },
            )
        )
    written += _timelines(dataset, directory, study_id, first_dx)
    return written


def _sample_row(
    subject: str,
    sample_id: str,
    tumour: dict[str, Any] | None,
    test: dict[str, Any] | None,
    first_dx: dict[str, datetime.date | None],
) -> list[Any]:
    code, detailed = ONCOTREE.get(tumour["category"] if tumour else "", ("", ""))
    if tumour and tumour["category"] == "pcca":
        detailed = "Perihilar Cholangiocarcinoma"
    elif tumour and tumour["category"] == "dcca":
        detailed = "Distal Cholangiocarcinoma"
    dx = first_dx.get(subject)
    days = (test["test_date"] - dx).days if test and dx else None
    return [
        subject,
        sample_id,
        CANCER_TYPE if tumour else None,
        detailed or None,
        code or None,
        "Primary" if tumour else None,
        tumour["morphology"] if tumour else None,
        tumour["topography"] if tumour else None,
        (test or tumour or {}).get("center"),
        test["kind"] if test else None,
        test["specimen"] if test else None,
        days,
        test["tmb"] if test else None,
        test["panel_size_mb"] if test else None,
        test["msi"] if test else None,
        test["pdl1_tps"] if test else None,
        test["pdl1_cps"] if test else None,
        test["her2"] if test else None,
    ]


def _genomics(
    dataset: ResearchDataset,
    directory: Path,
    study_id: str,
    sequenced: list[str],
    coverage: dict[str, tuple[str, set[str]]],
) -> list[Path]:
    written: list[Path] = []
    specimen = {t["sample_id"]: t["specimen"] for t in dataset.records("genomic_tests")}
    written.append(
        _meta(
            directory / "meta_mutations.txt",
            {
                "cancer_study_identifier": study_id,
                "genetic_alteration_type": "MUTATION_EXTENDED",
                "datatype": "MAF",
                "stable_id": "mutations",
                "show_profile_in_analysis_tab": "true",
                "profile_name": "Mutations",
                "profile_description": "Variants reported by the centers' molecular tests "
                "(HGNC symbols, HGVS on GRCh38).",
                "data_filename": "data_mutations.txt",
            },
        )
    )
    maf: list[list[Any]] = [list(MAF_COLUMNS)]
    for v in dataset.records("variants"):
        ref, alt = v["ref"] or "", v["alt"] or ""
        start = v["position"]
        end = start + max(len(ref), 1) - 1 if start is not None else None
        maf.append(
            [
                v["gene"],
                v["center"],
                "GRCh38",
                (v["chrom"] or "").removeprefix("chr") or None,
                start,
                end,
                "+" if start is not None else None,
                variant_classification(v["hgvs_p"], v["hgvs_c"]),
                _variant_type(ref, alt),
                ref or None,
                ref or None,  # Tumor_Seq_Allele1: the reference (heterozygous call)
                alt or None,
                v["sample_id"],
                "Germline" if specimen.get(v["sample_id"]) == "normal" else "Somatic",
                v["hgvs_c"] or None,
                hgvsp_short(v["hgvs_p"]) if v["hgvs_p"] else None,
                v["vaf"],
                v["classification"] or None,
            ]
        )
    written.append(_tsv(directory / "data_mutations.txt", _blank_na(maf), raw=True))

    written.append(
        _meta(
            directory / "meta_sv.txt",
            {
                "cancer_study_identifier": study_id,
                "genetic_alteration_type": "STRUCTURAL_VARIANT",
                "datatype": "SV",
                "stable_id": "structural_variants",
                "show_profile_in_analysis_tab": "true",
                "profile_name": "Structural variants",
                "profile_description": "Gene fusions reported by the centers' molecular tests.",
                "data_filename": "data_sv.txt",
            },
        )
    )
    sv: list[list[Any]] = [list(SV_COLUMNS)]
    for f in dataset.records("fusions"):
        site1 = _BREAKPOINT.match(f["breakpoint_5"] or "")
        site2 = _BREAKPOINT.match(f["breakpoint_3"] or "")
        frame = {True: "IN_FRAME", False: "FRAMESHIFT"}.get(f["in_frame"])
        sv.append(
            [
                f["sample_id"],
                f["gene_5"],
                site1.group(1) if site1 else None,
                site1.group(2) if site1 else None,
                f["gene_3"],
                site2.group(1) if site2 else None,
                site2.group(2) if site2 else None,
                frame,
                "GRCh38",
                None,
                None,
                f"{f['gene_5']}::{f['gene_3']} fusion",
                "SOMATIC",
            ]
        )
    written.append(_tsv(directory / "data_sv.txt", _blank_na(sv), raw=True))

    written.append(
        _meta(
            directory / "meta_cna.txt",
            {
                "cancer_study_identifier": study_id,
                "genetic_alteration_type": "COPY_NUMBER_ALTERATION",
                "datatype": "DISCRETE",
                "stable_id": "cna",
                "show_profile_in_analysis_tab": "true",
                "profile_name": "Putative copy-number alterations",
                "profile_description": "Copy-number changes reported by the centers' tests. "
                "Values: -2 = deep deletion; -1 = loss; 0 = no change; 1 = gain; "
                "2 = amplification; NA = gene not covered by the test.",
                "data_filename": "data_cna.txt",
            },
        )
    )
    calls: dict[str, dict[str, int]] = defaultdict(dict)
    for c in dataset.records("copy_numbers"):
        value = CNA_VALUES[c["change"]]
        previous = calls[c["gene"]].get(c["sample_id"])
        if previous is None or abs(value) > abs(previous):
            calls[c["gene"]][c["sample_id"]] = value
    cna: list[list[Any]] = [["Hugo_Symbol", *sequenced]]
    for gene in sorted(calls):
        row: list[Any] = [gene]
        for sample_id in sequenced:
            if sample_id in calls[gene]:
                row.append(calls[gene][sample_id])
            else:
                kind, genes = coverage.get(sample_id, ("", set()))
                row.append(0 if kind in ("wes", "wgs") or gene in genes else "NA")
        cna.append(row)
    written.append(_tsv(directory / "data_cna.txt", cna, raw=True))
    return written


def _blank_na(rows: list[list[Any]]) -> list[list[str]]:
    """Header as is; empty optional MAF / SV cells stay empty (not ``NA``)."""
    out = [[str(v) for v in rows[0]]]
    for row in rows[1:]:
        out.append(["" if v is None else _cell(v) for v in row])
    return out


def _timelines(
    dataset: ResearchDataset,
    directory: Path,
    study_id: str,
    first_dx: dict[str, datetime.date | None],
) -> list[Path]:
    def day(subject: str, d: datetime.date | None) -> int | str:
        dx = first_dx.get(subject)
        return (d - dx).days if d and dx else ""

    diagnosis: list[list[Any]] = [
        ["PATIENT_ID", "START_DATE", "STOP_DATE", "EVENT_TYPE", "CENTER", "CANCER"]
        + ["ONCOTREE_CODE", "HISTOLOGY", "TOPOGRAPHY", "BASIS"]
    ]
    for t in sorted(
        dataset.records("tumours"), key=lambda t: (t["subject_id"], t["diagnosis_date"])
    ):
        diagnosis.append(
            [
                t["subject_id"],
                day(t["subject_id"], t["diagnosis_date"]),
                "",
                "DIAGNOSIS",
                t["center"],
                t["category"],
                ONCOTREE.get(t["category"], ("",))[0],
                t["morphology"],
                t["topography"],
                t["basis"],
            ]
        )
    for f in dataset.records("follow_ups"):
        if f["event"] in ("recurrence", "progression") and f["event_date"]:
            diagnosis.append(
                [
                    f["subject_id"],
                    day(f["subject_id"], f["event_date"]),
                    "",
                    "STATUS",
                    f["center"],
                    f["event"],
                    "",
                    "",
                    "",
                    f["event_method"],
                ]
            )
    treatment: list[list[Any]] = [
        ["PATIENT_ID", "START_DATE", "STOP_DATE", "EVENT_TYPE", "CENTER", "TREATMENT_TYPE"]
        + ["SUBTYPE", "AGENT", "INTENT", "LINE", "BEST_RESPONSE"]
    ]
    kinds = {
        "systemic": "Medical Therapy",
        "radiotherapy": "Radiation Therapy",
        "resection": "Surgery",
        "transplant": "Surgery",
    }
    for t in sorted(
        dataset.records("treatments"), key=lambda t: (t["subject_id"], t["start_date"])
    ):
        start = day(t["subject_id"], t["start_date"])
        stop = day(t["subject_id"], t["end_date"]) if t["end_date"] else start
        treatment.append(
            [
                t["subject_id"],
                start,
                stop,
                "TREATMENT",
                t["center"],
                kinds.get(t["kind"], "Locoregional Therapy"),
                t["kind"],
                (t["drugs"].replace(";", "+") if t["drugs"] else t["regimen"]) or t["kind"],
                t["intent"],
                t["line"] if t["line"] is not None else "",
                t["best_response"],
            ]
        )
    written = []
    for event, rows in (("diagnosis", diagnosis), ("treatment", treatment)):
        written.append(
            _meta(
                directory / f"meta_timeline_{event}.txt",
                {
                    "cancer_study_identifier": study_id,
                    "genetic_alteration_type": "CLINICAL",
                    "datatype": "TIMELINE",
                    "data_filename": f"data_timeline_{event}.txt",
                },
            )
        )
        written.append(
            _tsv(
                directory / f"data_timeline_{event}.txt",
                [[_cell(v) if v != "" else "" for v in row] for row in rows],
                raw=True,
            )
        )
    return written
