"""The documented production deploy works: ``scripts/deploy_smoke.sh`` runs the README's
production steps (``DEBUG=0``, production static storage, gunicorn) against its own
PostgreSQL database and gets 200 for the login page, a static file, the home page and a
trial dashboard logged in, and an API list. The README block is checked against it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def _readme_production_block() -> str:
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"Production: .*?```sh\n(.*?)```", readme, re.S)
    assert match, "README has no production block"
    return match.group(1)


def test_readme_production_steps_are_what_the_smoke_script_runs():
    script = (ROOT / "scripts" / "deploy_smoke.sh").read_text()
    block = _readme_production_block()
    # every web step (the Celery worker is a process of its own, tested elsewhere)
    commands = [
        line.strip()
        for line in block.splitlines()
        if line.startswith(".venv/bin/") and "celery" not in line
    ]
    assert len(commands) >= 4
    for command in commands:
        step = command.split("#")[0].strip().replace(".venv/bin/", '"$BIN/')
        step = step.replace('"$BIN/python', '"$BIN/python"').replace(
            '"$BIN/gunicorn', '"$BIN/gunicorn"'
        )
        # the script binds a free loopback port instead of the documented one
        step = re.sub(r"--bind \S+", '--bind "127.0.0.1:$PORT"', step)
        assert step in script, f"README step not run by scripts/deploy_smoke.sh: {command}"
    for variable in re.findall(r"\b([A-Z_]+)=", block):
        assert f"export {variable}=" in script, f"README variable {variable} not set by the script"


@pytest.mark.postgres
def test_documented_production_deploy_serves_pages_with_gunicorn():
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    auth = f"{user}:{db['PASSWORD']}" if db.get("PASSWORD") else user
    env = {
        k: v
        for k, v in os.environ.items()
        # DJANGO_ALLOW_ASYNC_UNSAFE is set by the browser tests in the same process; the
        # deploy check rightly refuses it (async.E001)
        if k
        not in (
            "DEBUG",
            "TESTING",
            "DJANGO_SETTINGS_MODULE",
            "DATABASE_URL",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        )
    }
    env.update(
        {
            "DEPLOY_PG": f"postgres://{auth}@{host}:{port}",
            "DEPLOY_DB": f"{db['NAME']}_deploy",
            "BIN": str(Path(sys.executable).parent),
        }
    )
    out = subprocess.run(
        ["bash", str(ROOT / "scripts" / "deploy_smoke.sh")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-6000:]
    assert "deploy smoke: passed" in out.stdout
    assert "ok: trial dashboard answers 200" in out.stdout
    assert "Traceback" not in log
