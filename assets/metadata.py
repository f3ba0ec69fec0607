"""Materialization metadata that makes an asset readable in the Dagster UI."""

from __future__ import annotations

from typing import Any

import dagster as dg
import polars as pl
import pyarrow as pa

from pipeline.artifacts import ArtifactVersion


def column_schema(schema: pa.Schema) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                field.name,
                str(field.type),
                constraints=dg.TableColumnConstraints(nullable=field.nullable),
            )
            for field in schema
        ]
    )


def preview(table: pa.Table, columns: list[str], rows: int = 10) -> dg.MetadataValue:
    """A Markdown table of the first ``rows`` rows, long text shortened."""
    frame = pl.from_arrow(table.select(columns).slice(0, rows))
    assert isinstance(frame, pl.DataFrame)
    header = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n"
    lines = ["| " + " | ".join(_cell(value) for value in row) + " |" for row in frame.iter_rows()]
    return dg.MetadataValue.md(header + "\n".join(lines))


def _cell(value: Any) -> str:
    text = " ".join(str(value).split()) if value is not None else ""
    text = text.replace("|", "\\|")
    return text if len(text) <= 80 else text[:79] + "…"


def artifact_metadata(version: ArtifactVersion, schema: pa.Schema | None = None) -> dict[str, Any]:
    """Path, version and lineage of a stored artifact, plus row count and a table's schema."""
    metadata: dict[str, Any] = {
        "path": dg.MetadataValue.path(version.path),
        "version": version.version,
        "upstream": dg.MetadataValue.json(version.upstream),
    }
    if version.rows is not None:
        metadata["dagster/row_count"] = version.rows
    if schema is not None:
        metadata["dagster/column_schema"] = column_schema(schema)
    return metadata
