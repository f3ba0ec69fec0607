"""The folder layout is the architecture; these tests keep it that way."""

import ast
from pathlib import Path

import assets
import pipeline
from pipeline.home import REPO_ROOT


def test_generic_package_names_resolve_inside_this_repository():
    for package in (assets, pipeline):
        assert Path(package.__file__).resolve().is_relative_to(REPO_ROOT)


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_pipeline_is_free_of_dagster_except_the_code_location_entry():
    offenders = []
    for path in sorted((REPO_ROOT / "pipeline").rglob("*.py")):
        if path.name == "definitions.py" and path.parent.name == "pipeline":
            continue
        dagster_imports = {
            m for m in _imported_modules(path) if m.split(".")[0].startswith("dagster")
        }
        if dagster_imports:
            offenders.append(f"{path.relative_to(REPO_ROOT)}: {sorted(dagster_imports)}")
    assert offenders == []


def test_required_top_level_entries_exist():
    for name in ("pyproject.toml", "pipeline", "assets", "warehouse", "tests", "dagster.yaml"):
        assert (REPO_ROOT / name).exists(), name
