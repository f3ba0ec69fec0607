"""The Dagster layer of paperlake: assets, checks, partitions, sensors, schedules, resources.

Each module wires functions from ``pipeline`` into Dagster; the domain logic lives there.
"""
