"""Clinical data of trial visits: laboratory results (CTCAE-graded), reference ranges,
vital signs, treatment exposure, procedures (cryoablation) and concomitant medications."""
