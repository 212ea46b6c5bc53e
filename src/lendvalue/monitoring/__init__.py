"""Monitoring: the snapshots the pipeline writes, early-warning alerts and the model registry
(docs/monitoring.md)."""
