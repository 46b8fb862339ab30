"""Data exports as background jobs: a CSV bundle and CDISC ODM 1.3.2 with audit trail."""
