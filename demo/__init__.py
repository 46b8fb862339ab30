"""Demo data for the whole product (``manage.py seed_demo``).

The composition root of the seed: it drives every app's real services (trials, sites,
patients, clinical, monitoring, registry, recruiting), so it sits above all of them and
nothing but tests and benchmarks imports it. Each app's own seed data stays in that app
(``clinical/demo.py``, ``registry/demo.py``, ...); the accounts' password and the
"as if it were that day" clock they share are in ``sites/demo.py``.
"""
