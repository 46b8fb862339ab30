# Two commands on a fresh machine: `make run` and `make test` (see README).
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run serve test worker lint format bench bench-registry gallery messages clean lock lock-upgrade backup restore

# The environment is exactly requirements.lock (versions and hashes, see README
# "Reproducible installs"); the project itself is installed on top without dependencies.
$(STAMP): pyproject.toml requirements.lock scripts/check_lock.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python scripts/check_lock.py
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

# Refresh requirements.lock from pyproject.toml: versions already locked are kept (only
# new or changed requirements are resolved), so the result is the same on every run;
# `make lock-upgrade` moves everything to the newest allowed versions.
UV_COMPILE = $(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --universal \
	--python-version 3.11 --custom-compile-command "make lock" --quiet -o requirements.lock

$(BIN)/uv:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv>=0.5"

lock: $(BIN)/uv
	$(UV_COMPILE)

lock-upgrade: $(BIN)/uv
	$(UV_COMPILE) --upgrade

run: install
	@echo "== 1/3 database: apply migrations"
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	@echo "== 2/3 demo data: 20 sites, 200 patients through the real services (seed_demo)"
	DEBUG=1 $(BIN)/python manage.py seed_demo
	@echo "== 3/3 serving on http://127.0.0.1:8000 (Ctrl-C to stop)"
	DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:8000

# pytest-xdist: one worker per core (PYTEST_WORKERS=0 runs in one process). Each worker
# has its own test database (test_<name>_gw0, ...) and its own cache key prefix.
PYTEST_WORKERS ?= auto
test: install
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

worker: install
	$(BIN)/celery -A config worker --beat --loglevel=info

# Style, architecture (import-linter contracts in pyproject.toml) and types (mypy with the
# Django and DRF stubs, on the files listed in [tool.mypy]); README "Architecture".
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	TESTING=1 $(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Every benchmark runs (each prints its "name: measured, baseline, ratio" goal lines);
# the target fails if any of them failed. `make bench BENCH_PATIENTS=100000` for 100k.
BENCH_PATIENTS ?= 10000
bench: install
	@status=0; \
	$(BIN)/python bench/bench_dashboard.py --patients $(BENCH_PATIENTS) $(BENCH_ARGS) || status=1; \
	$(BIN)/python bench/bench_lists.py --patients $(BENCH_PATIENTS) $(BENCH_LIST_ARGS) || status=1; \
	$(BIN)/python bench/bench_writes.py $(BENCH_WRITE_ARGS) || status=1; \
	$(BIN)/python bench/bench_exports.py --patients $$(( $(BENCH_PATIENTS) / 2 )) $(BENCH_EXPORT_ARGS) || status=1; \
	exit $$status

# Registry research at scale (PostgreSQL): 500,000 patients, ~5 million events by default.
BENCH_REGISTRY_PATIENTS ?= 500000
bench-registry: install
	$(BIN)/python bench/bench_registry.py --patients $(BENCH_REGISTRY_PATIENTS)

# The screenshot gallery (docs/GALLERY.md, docs/gallery/): the browser walk of every main
# page of the demo, photographed in both languages at 390 px and desktop width.
gallery: install
	rm -rf docs/gallery
	GALLERY_DIR=docs/gallery $(BIN)/python -m pytest -q -p no:cacheprovider -p no:xdist \
		tests/browser/test_ux.py -k demo_pages_as_every_role

messages: install
	DEBUG=1 $(BIN)/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=var --ignore=tests --ignore=monitoring --ignore=recruiting --ignore=clinical --ignore=registry --ignore=research
	for app in monitoring recruiting clinical registry research; do (cd $$app && DEBUG=1 DJANGO_SETTINGS_MODULE=config.settings PYTHONPATH=.. ../$(BIN)/django-admin makemessages -l zh_Hans && DEBUG=1 DJANGO_SETTINGS_MODULE=config.settings PYTHONPATH=.. ../$(BIN)/django-admin compilemessages -l zh_Hans); done
	DEBUG=1 $(BIN)/python manage.py compilemessages -l zh_Hans --ignore=.venv

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
