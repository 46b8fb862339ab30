"""Staging engines (pure Python, no Django): each returns a ``StagingResult`` with the
value, the inputs it used and its engine version; callers store all three, with any
override and its reason. Child-Pugh and ALBI are in ``domain.liver_function``."""

from .ajcc import ajcc_icc, ajcc_liver
from .base import StagingResult
from .bclc import bclc
from .cnlc import cnlc
from .ecog import ecog

__all__ = ["StagingResult", "ajcc_icc", "ajcc_liver", "bclc", "cnlc", "ecog"]
