"""CUDA smoke test (train, save, load, predict on the GPU); skipped without a GPU."""

import sys
from pathlib import Path

import pytest
import torch

pytest.importorskip("stable_baselines3")
sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
from cuda_smoke import cuda_smoke_test

torch.set_num_threads(1)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_smoke():
    result = cuda_smoke_test()
    assert result["ok"], result


def test_cuda_smoke_refuses_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="needs a CUDA device"):
        cuda_smoke_test()
