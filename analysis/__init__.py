"""Trial analysis: the statistics the dashboard, the API and the data-cut report show, the
data cuts themselves, and the background recomputation of the cached figures.

It sits above the apps whose data it reads (patients, the clinical records, the monitoring
locks) and below the adapters (exports, research); it has no models of its own.
"""
