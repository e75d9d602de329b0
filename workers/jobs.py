"""Periodic jobs that cross apps (SLA sweeps, presence reaping, metric rollups)."""
