"""Asset checks on each snapshot's papers."""

import warnings
from collections.abc import Callable

import dagster as dg
import pyarrow as pa

from assets.partitions import snapshots
from assets.resources import PaperlakeResource
from assets.snapshot import papers
from pipeline import quality

# Checks on partitioned assets need their partitions_def, which Dagster flags as a preview API.
warnings.filterwarnings(
    "ignore", message="Specifying a partitions_def on an AssetCheckSpec", category=dg.PreviewWarning
)


def _papers_check(
    rule: Callable[[pa.Table], quality.Verdict], name: str, description: str, blocking: bool
) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=papers,
        name=name,
        description=description,
        blocking=blocking,
        partitions_def=snapshots,
    )
    def _check(
        context: dg.AssetCheckExecutionContext, paperlake: PaperlakeResource
    ) -> dg.AssetCheckResult:
        table = paperlake.store.read_table("papers", context.partition_key)
        verdict = rule(table)
        return dg.AssetCheckResult(
            passed=verdict.passed,
            description=verdict.description,
            metadata=verdict.metadata,
        )

    return _check


papers_non_empty = _papers_check(
    quality.non_empty, "non_empty", "The snapshot has at least one paper.", blocking=True
)
papers_unique_ids = _papers_check(
    quality.unique_paper_ids,
    "unique_paper_id",
    "No paper_id appears twice in a snapshot.",
    blocking=True,
)
papers_titles = _papers_check(
    quality.no_empty_titles, "no_empty_titles", "Every paper has a non-empty title.", blocking=False
)
papers_ranks = _papers_check(
    quality.contiguous_ranks,
    "ranks_contiguous",
    "Ranks run 1..n without gaps or repeats.",
    blocking=False,
)
