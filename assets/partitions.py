"""Partitions: one per snapshot (raw dump), registered as dumps arrive."""

import dagster as dg

snapshots = dg.DynamicPartitionsDefinition(name="snapshots")
