"""Pure clinical engines: plain data in, plain data out, no Django import.

Eligibility rules, RECIST, statistics, randomization, visit schedule, safety deadlines, the
data-cut analysis, liver function, staging, CTCAE laboratory grading, ... Nothing here
imports Django or a project app (an import-linter contract in ``make lint`` says so).
"""
