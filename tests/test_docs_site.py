"""The documentation site's hooks: a nav that tolerates missing and new pages, links out of
the docs folder sent to the repository. (The whole site, with the gallery drawn from
the examples, is built with ``mkdocs build --strict`` in CI.)"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def hooks() -> ModuleType:
    return _load("alliance_score_site_hooks", ROOT / "docs" / "hooks" / "site.py")


def _docs(tmp_path: Path, *pages: str) -> Path:
    for page in pages:
        path = tmp_path / page
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# {page}\n", encoding="utf-8")
    return tmp_path


def test_nav_drops_missing_pages_expands_folders_and_adds_unlisted_ones(
    hooks: ModuleType, tmp_path: Path
) -> None:
    docs = _docs(
        tmp_path, "index.md", "a.md", "new.md", "ins/index.md", "ins/z.md", "ins/b.md", "hooks/x.md"
    )
    nav = [
        {"Home": "index.md"},
        {"Group": [{"A": "a.md"}, {"Not yet": "fhir.md"}]},
        {"Empty": [{"Missing": "service.md"}]},
        {"Instruments": ["ins/*", {"A again": "a.md"}]},
        {"Gallery": "gallery.md"},
    ]
    assert hooks.tolerant_nav(nav, docs) == [
        {"Home": "index.md"},
        {"Group": [{"A": "a.md"}]},
        {"Instruments": ["ins/index.md", "ins/b.md", "ins/z.md", {"A again": "a.md"}]},
        {"Gallery": "gallery.md"},
        {"More": ["new.md"]},
    ]


def test_the_site_nav_names_every_page_of_the_docs_folder(hooks: ModuleType) -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    nav = hooks.tolerant_nav(config["nav"], ROOT / "docs")
    assert "More" not in [next(iter(item)) for item in nav]  # nothing left unplaced
    pages = {"fhir.md", "service.md", "scale-out.md", "security.md"}
    text = str(config["nav"])
    assert all(p in text for p in pages)  # in the nav as soon as they exist


def test_links_out_of_the_docs_folder_point_to_the_repository(hooks: ModuleType) -> None:
    docs = ROOT / "docs"
    text = (
        "[ex](../examples/srs-sessions.csv) [readme](../README.md#quick-start) "
        "[same](scoring.md) [web](https://example.org/x) [up](../../outside.md)"
    )
    out = hooks.outside_links(text, "report.md", docs, "https://github.com/o/r")
    assert out == (
        "[ex](https://github.com/o/r/blob/main/examples/srs-sessions.csv) "
        "[readme](https://github.com/o/r/blob/main/README.md#quick-start) "
        "[same](scoring.md) [web](https://example.org/x) [up](../../outside.md)"
    )
    nested = hooks.outside_links("[x](../../examples)", "instruments/srs.md", docs, "https://h/")
    assert nested == "[x](https://h/tree/main/examples)"
