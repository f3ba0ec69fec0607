"""Jobs: what a new snapshot runs, and what the daily schedule re-runs."""

import dagster as dg

snapshot_job = dg.define_asset_job(
    "snapshot_job",
    selection=dg.AssetSelection.groups("ingest", "snapshot", "warehouse")
    | dg.AssetSelection.assets("snapshot_report"),
    description="Archive, parse and derive one snapshot, load it into the warehouse, write its digest.",
)

digest_job = dg.define_asset_job(
    "digest_job",
    selection=dg.AssetSelection.assets("snapshot_report"),
    description="Re-render the digest of one snapshot from the warehouse.",
)
