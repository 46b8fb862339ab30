"""Public recruiting: trial finder, self pre-screening, appointment requests, referrals."""
