"""Jobs: what a new snapshot runs, what the daily schedule delivers, what refreshes the trends."""

import dagster as dg

snapshot_job = dg.define_asset_job(
    "snapshot_job",
    selection=(
        dg.AssetSelection.groups("ingest", "snapshot", "warehouse")
        | dg.AssetSelection.assets("snapshot_report")
    )
    # the freshness check looks at all snapshots and runs on its own schedule
    - dg.AssetSelection.checks(
        dg.AssetCheckKey(dg.AssetKey("raw_listing"), "raw_listing_freshness")
    ),
    description="Archive, parse and derive one snapshot, load it into the warehouse, write its digest.",
)

digest_job = dg.define_asset_job(
    "digest_job",
    selection=dg.AssetSelection.assets("snapshot_report", "digest_mail"),
    description="Render the digest of one snapshot and mail it (once) when mail is configured.",
)

trends_job = dg.define_asset_job(
    "trends_job",
    selection=dg.AssetSelection.assets("trend_report", "digest_feed"),
    description="Render the trend report over all snapshots and the Atom feed of digests.",
)
