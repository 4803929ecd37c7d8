"""The ```python blocks of docs/data.md run as written, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "data.md"


def test_docs_examples_run(capsys):
    blocks = re.findall(r"^```python\n(.*?)^```$", DOC.read_text(), flags=re.S | re.M)
    assert len(blocks) >= 3
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)
    out = capsys.readouterr().out
    assert "did you mean 'CustomerID'" in out
    assert "WHITE HANGING HEART T-LIGHT HOLDER" in out
