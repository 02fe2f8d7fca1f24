"""MkDocs hooks of the documentation site (``hooks:`` in ``mkdocs.yml``).

* **A nav that follows the docs folder.** ``nav`` in ``mkdocs.yml`` gives the order and
  titles; entries whose page does not exist (yet) are dropped, ``folder/*`` expands to
  the folder's pages (index first), and any page the nav does not name is added under
  "More", so a new page never breaks ``mkdocs build --strict`` and never goes missing.
* **The plot gallery**, drawn at build time by ``examples/gallery.py``: one SVG per
  function and a page showing each with the code that drew it.
* **Links out of the docs folder** (``../examples/...``, ``../README.md``) point to the
  repository, as on GitHub, instead of failing the strict build.
"""

from __future__ import annotations

import importlib.util
import inspect
import io
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ("gallery.md",)
MORE = "More"
_LINK = re.compile(r"(\]\()([^)\s#]+)((?:#[^)\s]*)?(?:\s+\"[^\"]*\")?\))")


# -- nav ---------------------------------------------------------------------------------
def _entries(docs: Path, pattern: str) -> list[Any]:
    folder = pattern[: -len("/*")]
    pages = sorted(p.relative_to(docs).as_posix() for p in (docs / folder).glob("*.md"))
    index = f"{folder}/index.md"
    return ([index] if index in pages else []) + [p for p in pages if p != index]


def _keep(item: Any, docs: Path, seen: set[str]) -> Any:
    """The nav item with missing pages dropped (``None`` when nothing is left)."""
    if isinstance(item, str):
        if item.endswith("/*"):
            found = _entries(docs, item)
            seen.update(found)
            return found or None
        if item.startswith(("http://", "https://")):
            return item
        if (docs / item).is_file() or item in GENERATED:
            seen.add(item)
            return item
        return None
    if isinstance(item, dict):
        ((title, value),) = item.items()
        kept = _keep(value, docs, seen)
        return None if kept in (None, []) else {title: kept}
    kept_list: list[Any] = []
    for entry in item:
        kept = _keep(entry, docs, seen)
        if isinstance(entry, str) and isinstance(kept, list):
            kept_list.extend(kept)  # folder/* expands in place
        elif kept not in (None, []):
            kept_list.append(kept)
    return kept_list or None


def tolerant_nav(nav: list[Any], docs: Path) -> list[Any]:
    """Drop nav entries without a page, expand ``folder/*``, add unlisted pages."""
    seen: set[str] = set()
    kept: list[Any] = _keep(nav, docs, seen) or []
    skip = {"hooks"}
    unlisted = sorted(
        p.relative_to(docs).as_posix()
        for p in docs.rglob("*.md")
        if p.relative_to(docs).parts[0] not in skip and p.relative_to(docs).as_posix() not in seen
    )
    if unlisted:
        kept.append({MORE: unlisted})
    return kept


def on_config(config: Any) -> Any:
    if config.get("nav"):
        config["nav"] = tolerant_nav(config["nav"], Path(config["docs_dir"]))
    return config


# -- gallery -----------------------------------------------------------------------------
def _gallery_module() -> Any:
    path = ROOT / "examples" / "gallery.py"
    spec = importlib.util.spec_from_file_location("alliance_score_gallery", path)
    if spec is None or spec.loader is None:  # pragma: no cover - the file is in the repo
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def gallery_page(module: Any) -> tuple[str, dict[str, bytes]]:
    """The gallery page's Markdown and its images (``gallery/<name>.svg``)."""
    import matplotlib as mpl

    images: dict[str, bytes] = {}
    parts = [
        "# Plot gallery",
        "",
        "Every figure below is drawn when the site is built, from the example data in "
        "`examples/`, by the function shown under it (`examples/gallery.py`); see "
        "[Plots and the clinician report](report.md) for the options of each plot.",
        "",
    ]
    style = {"svg.fonttype": "path", "svg.hashsalt": "alliance-score", "font.family": "DejaVu Sans"}
    for function in module.GALLERY:
        name = function.__name__
        with mpl.rc_context(style):
            fig = function()
            buffer = io.BytesIO()
            fig.savefig(buffer, format="svg", metadata={"Date": None})
        images[f"gallery/{name}.svg"] = buffer.getvalue()
        title = name.replace("_", " ").capitalize()
        doc = inspect.cleandoc(function.__doc__ or "")
        source = inspect.getsource(function)
        parts += [
            f"## {title}",
            "",
            doc,
            "",
            f"![{doc.splitlines()[0] if doc else title}](gallery/{name}.svg)",
            "",
            "```python",
            source.rstrip(),
            "```",
            "",
        ]
    return "\n".join(parts), images


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    markdown, images = gallery_page(_gallery_module())
    files.append(File.generated(config, "gallery.md", content=markdown))
    for uri, content in images.items():
        files.append(File.generated(config, uri, content=content))
    return files


# -- links out of the docs folder --------------------------------------------------------
def outside_links(markdown: str, page_uri: str, docs: Path, repo_url: str) -> str:
    """Links that leave the docs folder, rewritten to the file in the repository."""
    base = (docs / page_uri).parent

    def fix(match: re.Match[str]) -> str:
        target = match.group(2)
        if "://" in target or target.startswith(("/", "mailto:")):
            return match.group(0)
        resolved = (base / target).resolve()
        try:
            resolved.relative_to(docs.resolve())
            return match.group(0)
        except ValueError:
            pass
        try:
            inside = resolved.relative_to(ROOT).as_posix()
        except ValueError:
            return match.group(0)
        kind = "tree" if resolved.is_dir() else "blob"
        return f"{match.group(1)}{repo_url.rstrip('/')}/{kind}/main/{inside}{match.group(3)}"

    return _LINK.sub(fix, markdown)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    return outside_links(
        markdown, page.file.src_uri, Path(config["docs_dir"]), config.get("repo_url") or ""
    )
