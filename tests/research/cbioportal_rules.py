"""A checker of cBioPortal study directories, written for these tests from cBioPortal's
documented rules (docs.cbioportal.org "File Formats", "Data Loading"; the dataset
validator's documented checks). Independent of ``research.interop.cbioportal``: it reads
only the files. ``study_problems(directory)`` lists every problem found; [] is a pass.

Checked: meta files (``key: value`` lines; the required keys of each genetic alteration
type / datatype; the study identifier; ``data_filename`` naming an existing file; the
stable ids cBioPortal expects); clinical files (four ``#`` header rows of the same width as
the attribute row, datatypes STRING / NUMBER / BOOLEAN, integer priorities, upper-case
attribute names, required and unique PATIENT_ID / SAMPLE_ID with the allowed characters,
every value matching its datatype, survival status ``0:`` / ``1:`` with its _MONTHS
partner, no banned attribute, no attribute in both files, every sample's patient in the
patient file); the MAF (required columns, non-empty values, the allowed
Variant_Classification values in the right case, NCBI_Build matching reference_genome,
known samples); discrete CNA (Hugo_Symbol / Entrez_Gene_Id first, sample columns known,
values -2..2 or NA); structural variants (Sample_Id, a Site1 / Site2 Hugo symbol, SV_Status
SOMATIC / GERMLINE); timelines (PATIENT_ID, START_DATE, STOP_DATE, EVENT_TYPE, integer
days, stop not before start, known patients); case lists (keys, ``<study>_`` stable ids,
known categories, ids all known samples, tab-separated, the lists required by the loaded
profiles, every mutated sample in ``_sequenced``); every data file tab-separated with rows
as wide as the header, UTF-8.
"""

from __future__ import annotations

import re
from pathlib import Path

COMMON = ("cancer_study_identifier", "genetic_alteration_type", "datatype", "data_filename")
PROFILE = (*COMMON, "stable_id", "show_profile_in_analysis_tab", "profile_name")
PROFILE += ("profile_description",)
REQUIRED_META = {
    ("CLINICAL", "PATIENT_ATTRIBUTES"): COMMON,
    ("CLINICAL", "SAMPLE_ATTRIBUTES"): COMMON,
    ("CLINICAL", "TIMELINE"): COMMON,
    ("MUTATION_EXTENDED", "MAF"): PROFILE,
    ("COPY_NUMBER_ALTERATION", "DISCRETE"): PROFILE,
    ("STRUCTURAL_VARIANT", "SV"): PROFILE,
}
STABLE_IDS = {
    ("MUTATION_EXTENDED", "MAF"): {"mutations"},
    ("COPY_NUMBER_ALTERATION", "DISCRETE"): {"gistic", "cna", "cna_rae", "cna_consensus"},
    ("STRUCTURAL_VARIANT", "SV"): {"structural_variants"},
}
STUDY_KEYS = ("type_of_cancer", "cancer_study_identifier", "name", "description")
CASE_LIST_KEYS = (
    "cancer_study_identifier",
    "stable_id",
    "case_list_name",
    "case_list_description",
    "case_list_ids",
)
CATEGORIES = {
    "all_cases_in_study",
    "all_cases_with_mutation_data",
    "all_cases_with_cna_data",
    "all_cases_with_log2_cna_data",
    "all_cases_with_methylation_data",
    "all_cases_with_mrna_array_data",
    "all_cases_with_mrna_rnaseq_data",
    "all_cases_with_rppa_data",
    "all_cases_with_microrna_data",
    "all_cases_with_mutation_and_cna_data",
    "all_cases_with_mutation_and_cna_and_mrna_data",
    "all_cases_with_gsva_data",
    "all_cases_with_sv_data",
    "other",
}
VARIANT_CLASSIFICATIONS = {
    "Frame_Shift_Del",
    "Frame_Shift_Ins",
    "In_Frame_Del",
    "In_Frame_Ins",
    "Missense_Mutation",
    "Nonsense_Mutation",
    "Silent",
    "Splice_Site",
    "Translation_Start_Site",
    "Nonstop_Mutation",
    "3'UTR",
    "3'Flank",
    "5'UTR",
    "5'Flank",
    "IGR",
    "Intron",
    "RNA",
    "Targeted_Region",
    "De_novo_Start_InFrame",
    "De_novo_Start_OutOfFrame",
    "Splice_Region",
    "Unknown",
}
MAF_REQUIRED = ("Hugo_Symbol", "Tumor_Sample_Barcode", "Variant_Classification", "HGVSp_Short")
BUILDS = {"hg19": "GRCh37", "hg38": "GRCh38"}
ID = re.compile(r"^[A-Za-z0-9._-]+$")
NA = {"", "NA", "N/A", "NaN"}


def parse_meta(path: Path, problems: list[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip() or key != key.strip():
            problems.append(f"{path.name}:{n}: not a 'key: value' line")
            continue
        if key in fields:
            problems.append(f"{path.name}:{n}: {key} given twice")
        fields[key] = value.strip()
    return fields


def read_rows(path: Path, problems: list[str]) -> list[list[str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        problems.append(f"{path.name}: not UTF-8")
        return []
    return [line.split("\t") for line in text.splitlines()]


def _table(
    path: Path, problems: list[str], *, comments: int = 0
) -> tuple[list[str], list[dict[str, str]]]:
    rows = read_rows(path, problems)
    body = rows[comments:]
    if not body:
        problems.append(f"{path.name}: no header row")
        return [], []
    header = body[0]
    if len(set(header)) != len(header):
        problems.append(f"{path.name}: a column is named twice")
    if len(header) == 1 and "," in header[0]:
        problems.append(f"{path.name}: not tab-separated")
    records = []
    for n, row in enumerate(body[1:], start=comments + 2):
        if len(row) != len(header):
            problems.append(f"{path.name}:{n}: {len(row)} cells, the header has {len(header)}")
            continue
        records.append(dict(zip(header, row, strict=True)))
    return header, records


def _clinical(path: Path, kind: str, problems: list[str]) -> tuple[list[str], list[dict[str, str]]]:
    rows = read_rows(path, problems)
    if len(rows) < 5:
        problems.append(f"{path.name}: fewer than the 4 header rows and the attribute row")
        return [], []
    meta_rows, names = rows[:4], rows[4]
    for n, row in enumerate(meta_rows, start=1):
        if not row[0].startswith("#"):
            problems.append(f"{path.name}:{n}: header row {n} does not start with '#'")
        if len(row) != len(names):
            problems.append(f"{path.name}:{n}: header row {n} is not as wide as the attributes")
    if any(p for p in problems if p.startswith(f"{path.name}:")):
        return [], []
    datatypes = [meta_rows[2][0].lstrip("#"), *meta_rows[2][1:]]
    priorities = [meta_rows[3][0].lstrip("#"), *meta_rows[3][1:]]
    for name, datatype, priority in zip(names, datatypes, priorities, strict=True):
        if datatype not in ("STRING", "NUMBER", "BOOLEAN"):
            problems.append(f"{path.name}: {name} has datatype {datatype!r}")
        if not re.fullmatch(r"-?\d+", priority):
            problems.append(f"{path.name}: {name} has priority {priority!r}")
        if not re.fullmatch(r"[A-Z][A-Z0-9_]*", name):
            problems.append(f"{path.name}: attribute {name!r} is not upper case")
        if name in ("MUTATION_COUNT", "FRACTION_GENOME_ALTERED"):
            problems.append(f"{path.name}: {name} is filled by cBioPortal, not by the study")
    required = ("PATIENT_ID",) if kind == "PATIENT_ATTRIBUTES" else ("PATIENT_ID", "SAMPLE_ID")
    for name in required:
        if name not in names:
            problems.append(f"{path.name}: no {name} column")
    for prefix in ("OS", "DFS", "PFS", "DSS"):
        if f"{prefix}_STATUS" in names and f"{prefix}_MONTHS" not in names:
            name = f"{prefix}_STATUS"
            problems.append(f"{path.name}: {name} without its _MONTHS column")
    records = []
    for n, row in enumerate(rows[5:], start=6):
        if len(row) != len(names):
            problems.append(f"{path.name}:{n}: {len(row)} cells, the header has {len(names)}")
            continue
        record = dict(zip(names, row, strict=True))
        records.append(record)
        for name, datatype in zip(names, datatypes, strict=True):
            value = record[name]
            if name in required:
                if not ID.match(value):
                    problems.append(f"{path.name}:{n}: {name} {value!r} is empty or not allowed")
                continue
            if value in NA:
                continue
            if datatype == "NUMBER":
                try:
                    float(value)
                except ValueError:
                    problems.append(f"{path.name}:{n}: {name} {value!r} is not a NUMBER")
            elif datatype == "BOOLEAN" and value.upper() not in ("TRUE", "FALSE"):
                problems.append(f"{path.name}:{n}: {name} {value!r} is not a BOOLEAN")
            survival = name.endswith("_STATUS") and name[:-6] + "MONTHS" in names
            if survival and not re.match(r"^[01]:", value):
                problems.append(f"{path.name}:{n}: {name} {value!r} does not start 0: or 1:")
    key = "PATIENT_ID" if kind == "PATIENT_ATTRIBUTES" else "SAMPLE_ID"
    ids = [r.get(key, "") for r in records]
    if len(ids) != len(set(ids)):
        problems.append(f"{path.name}: a {key} is given twice")
    return names, records


def study_problems(directory: Path) -> list[str]:
    problems: list[str] = []
    study_meta = directory / "meta_study.txt"
    if not study_meta.exists():
        return ["meta_study.txt is missing"]
    study = parse_meta(study_meta, problems)
    for key in STUDY_KEYS:
        if not study.get(key):
            problems.append(f"meta_study.txt: {key} is missing or empty")
    study_id = study.get("cancer_study_identifier", "")
    if study_id and not re.fullmatch(r"[A-Za-z0-9_]+", study_id):
        problems.append(f"meta_study.txt: study id {study_id!r} has characters not allowed")

    metas: dict[tuple[str, str], list[tuple[Path, dict[str, str]]]] = {}
    for path in sorted(directory.iterdir()):
        name = path.name
        if not path.is_file() or path == study_meta:
            continue
        stem = name.rsplit(".", 1)[0]
        if not (stem.startswith("meta") or stem.endswith("meta")):
            continue
        fields = parse_meta(path, problems)
        kind = (fields.get("genetic_alteration_type", ""), fields.get("datatype", ""))
        required = REQUIRED_META.get(kind)
        if required is None:
            problems.append(f"{name}: unknown genetic_alteration_type / datatype {kind}")
            continue
        for key in required:
            if not fields.get(key):
                problems.append(f"{name}: {key} is missing or empty")
        if fields.get("cancer_study_identifier") != study_id:
            problems.append(f"{name}: cancer_study_identifier is not the study's")
        if kind in STABLE_IDS and fields.get("stable_id") not in STABLE_IDS[kind]:
            problems.append(f"{name}: stable_id {fields.get('stable_id')!r} is not expected")
        data = fields.get("data_filename", "")
        if data and not (directory / data).is_file():
            problems.append(f"{name}: data_filename {data} does not exist")
            continue
        metas.setdefault(kind, []).append((path, fields))

    def data_of(kind: tuple[str, str]) -> list[Path]:
        return [
            directory / f["data_filename"]
            for _p, f in metas.get(kind, [])
            if f.get("data_filename")
        ]

    patients: set[str] = set()
    patient_attributes: list[str] = []
    for path in data_of(("CLINICAL", "PATIENT_ATTRIBUTES")):
        patient_attributes, records = _clinical(path, "PATIENT_ATTRIBUTES", problems)
        patients |= {r["PATIENT_ID"] for r in records if "PATIENT_ID" in r}
    samples: set[str] = set()
    sample_files = data_of(("CLINICAL", "SAMPLE_ATTRIBUTES"))
    if not sample_files:
        problems.append("no clinical sample file (it is required)")
    for path in sample_files:
        names, records = _clinical(path, "SAMPLE_ATTRIBUTES", problems)
        both = set(names) & set(patient_attributes) - {"PATIENT_ID"}
        if both:
            problems.append(f"{path.name}: {sorted(both)} also defined for patients")
        for r in records:
            samples.add(r.get("SAMPLE_ID", ""))
            if patient_attributes and r.get("PATIENT_ID") not in patients:
                problems.append(
                    f"{path.name}: sample {r.get('SAMPLE_ID')} of unknown patient "
                    f"{r.get('PATIENT_ID')}"
                )

    mutated: set[str] = set()
    for path in data_of(("MUTATION_EXTENDED", "MAF")):
        header, records = _table(path, problems)
        for column in MAF_REQUIRED:
            if column not in header:
                problems.append(f"{path.name}: required column {column} is missing")
        for n, r in enumerate(records, start=2):
            for column in ("Hugo_Symbol", "Tumor_Sample_Barcode", "Variant_Classification"):
                if column in r and not r[column]:
                    problems.append(f"{path.name}:{n}: {column} is empty")
            vc = r.get("Variant_Classification", "")
            if vc and vc not in VARIANT_CLASSIFICATIONS:
                problems.append(f"{path.name}:{n}: Variant_Classification {vc!r} not allowed")
            barcode = r.get("Tumor_Sample_Barcode", "")
            if barcode and barcode not in samples:
                problems.append(f"{path.name}:{n}: sample {barcode} is not in the clinical data")
            mutated.add(barcode)
            build = r.get("NCBI_Build", "")
            expected = BUILDS.get(study.get("reference_genome", "hg19"))
            if build and build != expected:
                problems.append(f"{path.name}:{n}: NCBI_Build {build} but the study is {expected}")
            hgvsp = r.get("HGVSp_Short", "")
            if hgvsp and not hgvsp.startswith("p."):
                problems.append(f"{path.name}:{n}: HGVSp_Short {hgvsp!r} is not p. notation")

    for path in data_of(("COPY_NUMBER_ALTERATION", "DISCRETE")):
        header, records = _table(path, problems)
        if not header or header[0] not in ("Hugo_Symbol", "Entrez_Gene_Id"):
            problems.append(f"{path.name}: the first column is not Hugo_Symbol / Entrez_Gene_Id")
        gene_columns = {"Hugo_Symbol", "Entrez_Gene_Id"}
        for column in header:
            if column not in gene_columns and column not in samples:
                problems.append(f"{path.name}: column {column} is not a known sample")
        for n, r in enumerate(records, start=2):
            if not (r.get("Hugo_Symbol") or r.get("Entrez_Gene_Id")):
                problems.append(f"{path.name}:{n}: no gene")
            for column, value in r.items():
                if column in gene_columns:
                    continue
                if value not in NA and value not in ("-2", "-1.5", "-1", "0", "1", "2"):
                    problems.append(f"{path.name}:{n}: CNA value {value!r} not in -2..2")

    for path in data_of(("STRUCTURAL_VARIANT", "SV")):
        header, records = _table(path, problems)
        for column in ("Sample_Id", "SV_Status"):
            if column not in header:
                problems.append(f"{path.name}: required column {column} is missing")
        if "Site1_Hugo_Symbol" not in header and "Site2_Hugo_Symbol" not in header:
            problems.append(f"{path.name}: neither Site1_Hugo_Symbol nor Site2_Hugo_Symbol")
        for n, r in enumerate(records, start=2):
            if r.get("Sample_Id") not in samples:
                problems.append(f"{path.name}:{n}: sample {r.get('Sample_Id')!r} is unknown")
            if not (r.get("Site1_Hugo_Symbol") or r.get("Site2_Hugo_Symbol")):
                problems.append(f"{path.name}:{n}: no gene at either site")
            if r.get("SV_Status") not in ("SOMATIC", "GERMLINE"):
                problems.append(f"{path.name}:{n}: SV_Status {r.get('SV_Status')!r}")

    for path in data_of(("CLINICAL", "TIMELINE")):
        header, records = _table(path, problems)
        for column in ("PATIENT_ID", "START_DATE", "STOP_DATE", "EVENT_TYPE"):
            if column not in header:
                problems.append(f"{path.name}: required column {column} is missing")
        for n, r in enumerate(records, start=2):
            if patients and r.get("PATIENT_ID") not in patients:
                problems.append(f"{path.name}:{n}: unknown patient {r.get('PATIENT_ID')!r}")
            if not re.fullmatch(r"-?\d+", r.get("START_DATE", "")):
                problems.append(f"{path.name}:{n}: START_DATE {r.get('START_DATE')!r}")
            stop = r.get("STOP_DATE", "")
            if stop and not re.fullmatch(r"-?\d+", stop):
                problems.append(f"{path.name}:{n}: STOP_DATE {stop!r}")
            elif (
                stop
                and re.fullmatch(r"-?\d+", r.get("START_DATE", ""))
                and int(stop) < int(r["START_DATE"])
            ):
                problems.append(f"{path.name}:{n}: STOP_DATE before START_DATE")
            if not r.get("EVENT_TYPE"):
                problems.append(f"{path.name}:{n}: EVENT_TYPE is empty")

    lists: dict[str, set[str]] = {}
    case_dir = directory / "case_lists"
    for path in sorted(case_dir.glob("*")) if case_dir.is_dir() else []:
        fields = parse_meta(path, problems)
        for key in CASE_LIST_KEYS:
            if not fields.get(key):
                problems.append(f"case_lists/{path.name}: {key} is missing or empty")
        if fields.get("cancer_study_identifier") != study_id:
            problems.append(f"case_lists/{path.name}: cancer_study_identifier is not the study's")
        stable = fields.get("stable_id", "")
        if not stable.startswith(f"{study_id}_"):
            problems.append(f"case_lists/{path.name}: stable_id does not start {study_id}_")
        category = fields.get("case_list_category")
        if category is not None and category not in CATEGORIES:
            problems.append(f"case_lists/{path.name}: case_list_category {category!r}")
        raw = fields.get("case_list_ids", "")
        if " " in raw.strip() or "," in raw:
            problems.append(f"case_lists/{path.name}: case_list_ids are not tab-separated")
        ids = [i for i in raw.split("\t") if i]
        for i in ids:
            if i not in samples:
                problems.append(f"case_lists/{path.name}: {i} is not a sample of the study")
        lists[stable.removeprefix(f"{study_id}_")] = set(ids)
    if study.get("add_global_case_list", "").lower() != "true" and "all" not in lists:
        problems.append("no _all case list (and add_global_case_list is not true)")
    if metas.get(("MUTATION_EXTENDED", "MAF")):
        if "sequenced" not in lists:
            problems.append("mutation data without a _sequenced case list")
        elif mutated - lists["sequenced"]:
            problems.append(
                f"mutated samples not in _sequenced: {sorted(mutated - lists['sequenced'])}"
            )
    if metas.get(("COPY_NUMBER_ALTERATION", "DISCRETE")) and "cna" not in lists:
        problems.append("discrete CNA data without a _cna case list")
    return problems
