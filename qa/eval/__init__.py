"""`qa eval` and `qa convert`: question sets, metrics, reports."""
