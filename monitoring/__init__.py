"""Monitoring and data quality: data queries, source data verification, electronic
signatures and locks over every clinical record (see README, "Monitoring")."""
