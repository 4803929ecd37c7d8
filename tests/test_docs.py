"""Docs: every ```python block runs as written, and generated pages are up to date."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if "results" not in p.parts)


def _blocks(page: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", page.read_text(), flags=re.S | re.M)


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_python_blocks_run(page, tmp_path, monkeypatch):
    blocks = _blocks(page)
    if not blocks:
        pytest.skip("no python blocks")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for block in blocks:
        exec(compile(block, str(page), "exec"), namespace)


def test_generated_pages_are_up_to_date():
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_pages", DOCS / "gen_pages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, build in module.PAGES.items():
        assert (DOCS / name).read_text() == build(), f"run `python docs/gen_pages.py` ({name})"
    for path in module.pages_with_includes():
        text = path.read_text()
        assert module.with_includes(text) == text, f"run `python docs/gen_pages.py` ({path})"


def test_readme_starts_with_the_two_commands():
    readme = (DOCS.parent / "README.md").read_text()
    commands = re.findall(r"^```(?:sh|bash)?\n(.*?)^```$", readme, flags=re.S | re.M)[0]
    assert [c.split("#")[0].strip() for c in commands.strip().splitlines()] == [
        "make demo",
        "make test",
    ]
    assert "make test" in (DOCS.parent / ".ci" / "run").read_text()
    assert os.access(DOCS.parent / ".ci" / "run", os.X_OK)


def _modules_with_examples() -> list[str]:
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    import architecture  # every installed module, cartgym.agents and cartgym.harness too

    return sorted(n for n, path in architecture.modules().items() if ">>> " in path.read_text())


@pytest.mark.parametrize("module", _modules_with_examples())
def test_docstring_examples_run(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
