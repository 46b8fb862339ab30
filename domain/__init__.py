"""Pure clinical engines: plain data in, plain data out, no Django import.

New engines live here (liver function, staging, CTCAE laboratory grading); the older ones
under ``trials/domain/`` move here in the layering refactor.
"""
