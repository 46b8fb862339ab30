"""CSV bulk import, one template per domain.

A file is first **checked** in full: every row is validated by the same service a form
uses, inside a savepoint that is rolled back, and every problem is reported as
(row, field, problem); nothing is written. Only a file without problems can then be
**imported**, all rows in one transaction. Rows are matched by source system + source id
(results of a molecular test, which have no id of their own in the lab's report, by
their test's source id + what identifies them: gene and HGVS for a variant, the two
genes of a fusion, gene and change for a copy-number change), so re-importing the same
file changes nothing (an unchanged row is not re-saved; a
changed one is updated with the reason "re-import"). Both passes run as a background job
(Celery, eager without Redis) that updates the job's progress.

Layout of the package (``from registry.importing import X`` is the public interface; every
name the former single module defined, private helpers included, is re-exported here):

* ``cells``: ``RowError`` and the cell parsers;
* ``spec``: ``DomainSpec`` and the savers that call the registry's services;
* ``domains``: ``DOMAINS``, ``EXAMPLES``, ``DEFAULTS``, ``FHIR``, ``domain_choices``,
  ``template_csv``;
* ``rows``: reading a file and checking, matching and saving one row;
* ``job``: ``import_job_create``, ``import_job_run_async``, ``import_job_run`` (the Celery
  task that runs it stays ``registry.tasks.run_import``).
"""

from __future__ import annotations

# ``name as name``: re-exported for callers of the former single module (outside __all__).
from .cells import RowError
from .cells import _bool as _bool
from .cells import _date as _date
from .cells import _decimal as _decimal
from .cells import _int as _int
from .cells import _list as _list
from .cells import _markers as _markers
from .cells import _text as _text
from .domains import DEFAULTS, DOMAINS, EXAMPLES, FHIR, RISK, domain_choices, template_csv
from .job import MAX_BYTES, PROGRESS_EVERY, import_job_create, import_job_run, import_job_run_async
from .job import _run_fhir as _run_fhir
from .job import _status as _status
from .rows import MAX_ROWS
from .rows import _existing as _existing
from .rows import _problems_of as _problems_of
from .rows import _process_row as _process_row
from .rows import _read as _read
from .rows import _unchanged as _unchanged
from .spec import DomainSpec
from .spec import _child_saver as _child_saver
from .spec import _result_saver as _result_saver
from .spec import _save_patient as _save_patient

__all__ = [
    "DEFAULTS",
    "DOMAINS",
    "DomainSpec",
    "EXAMPLES",
    "FHIR",
    "MAX_BYTES",
    "MAX_ROWS",
    "PROGRESS_EVERY",
    "RISK",
    "RowError",
    "domain_choices",
    "import_job_create",
    "import_job_run",
    "import_job_run_async",
    "template_csv",
]
