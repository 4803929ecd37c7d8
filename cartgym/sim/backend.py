"""Array backends of the simulator: numpy (default) or torch (CPU or CUDA).

The dynamics are written once, with numpy-style operators and indexing that numpy
arrays and torch tensors share; the few operations that are spelled differently live
here. Random numbers always come from the environment's numpy generator and are copied
to the device, so both backends consume the same stream.
"""

from __future__ import annotations

from typing import Any

import numpy as np

BACKENDS = ("numpy", "torch")
DEVICES = ("auto", "cpu", "cuda")


class NumpyOps:
    name = "numpy"
    device = "cpu"

    def asarray(self, values: Any, dtype: str | None = None) -> Any:
        return np.asarray(values, dtype=dtype)

    def zeros(self, shape: tuple[int, ...], dtype: str) -> Any:
        return np.zeros(shape, dtype=dtype)

    def to_numpy(self, values: Any) -> np.ndarray:
        return np.asarray(values)

    def exp_(self, values: Any) -> Any:
        return np.exp(values, out=values)

    def zero_where_(self, values: Any, mask: Any) -> None:
        values[mask] = 0

    def block_sums(self, values: Any, width: int) -> Any:
        """(B, ceil(M / width)) float64 sums of consecutive blocks of ``width`` columns."""
        starts = np.arange(0, values.shape[1], width)
        # summed in float64 (reduceat on float32 would accumulate in float32)
        return np.add.reduceat(values.astype(np.float64), starts, axis=1)

    def add_at(self, target: Any, index: tuple[Any, ...], values: Any) -> None:
        """target[index] += values, accumulating repeated indices."""
        np.add.at(target, index, values)

    def row_sum64(self, values: Any) -> Any:
        return values.sum(axis=1, dtype=np.float64)

    def take_flat(self, values: Any, flat: Any) -> Any:
        """values.ravel()[flat] of a C-contiguous array."""
        return values.reshape(-1).take(flat)

    def put_flat(self, values: Any, flat: Any, new: Any) -> None:
        values.reshape(-1)[flat] = new

    def bincount(self, index: Any, weights: Any, length: int) -> Any:
        """(length,) float64 sums of ``weights`` by ``index``."""
        return np.bincount(index, weights=weights, minlength=length)

    def arange(self, n: int) -> Any:
        return np.arange(n)

    def astype(self, values: Any, dtype: str) -> Any:
        return values.astype(dtype)

    def row_max(self, values: Any) -> Any:
        return values.max(axis=1)

    def log1p(self, values: Any) -> Any:
        return np.log1p(values)

    def repeat(self, values: Any, counts: Any) -> Any:
        return np.repeat(values, counts)

    def concat(self, arrays: list[Any]) -> Any:
        """Join (B, k_i) arrays along the columns."""
        return np.concatenate(arrays, axis=1)

    def join(self, arrays: list[Any]) -> Any:
        """Join arrays along the first axis (rows, or the entries of 1-D arrays)."""
        return np.concatenate(arrays, axis=0)

    def log(self, values: Any) -> Any:
        return np.log(values)

    def sigmoid(self, values: Any) -> Any:
        return 1.0 / (1.0 + np.exp(-values))

    def clip(self, values: Any, low: float | None, high: float | None) -> Any:
        # np.minimum/np.maximum: ndarray.clip costs microseconds of dtype checks per call
        if low is not None:
            values = np.maximum(values, low)
        return values if high is None else np.minimum(values, high)

    def multiply(self, a: Any, b: Any, out: Any) -> Any:
        return np.multiply(a, b, out=out)

    def clip_max_(self, values: Any, top: float) -> None:
        np.minimum(values, top, out=values)

    def where(self, condition: Any, a: Any, b: Any) -> Any:
        return np.where(condition, a, b)


class TorchOps:
    name = "torch"

    def __init__(self, device: str):
        import torch

        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if device == "cuda" and not torch.cuda.is_available():
            raise ValueError("device='cuda' but torch sees no CUDA device; use 'cpu' or 'auto'")
        self.torch = torch
        self.device = device
        self._dtypes = {
            "float32": torch.float32,
            "float64": torch.float64,
            "int64": torch.int64,
            "bool": torch.bool,
        }

    def asarray(self, values: Any, dtype: str | None = None) -> Any:
        torch = self.torch
        kind = self._dtypes[dtype] if dtype else None
        if isinstance(values, torch.Tensor):
            return values.to(device=self.device, dtype=kind or values.dtype)
        array = np.asarray(values)
        if kind is None and array.dtype == np.float64:
            kind = torch.float64
        return torch.as_tensor(array, dtype=kind, device=self.device)

    def zeros(self, shape: tuple[int, ...], dtype: str) -> Any:
        return self.torch.zeros(shape, dtype=self._dtypes[dtype], device=self.device)

    def to_numpy(self, values: Any) -> np.ndarray:
        return values.detach().cpu().numpy()

    def exp_(self, values: Any) -> Any:
        return values.exp_()

    def zero_where_(self, values: Any, mask: Any) -> None:
        values.masked_fill_(mask, 0)

    def add_at(self, target: Any, index: tuple[Any, ...], values: Any) -> None:
        rows, cols = (i.expand_as(values) for i in index)
        target.index_put_((rows, cols), values, accumulate=True)

    def block_sums(self, values: Any, width: int) -> Any:
        n_rows, n_cols = values.shape
        padded = self.torch.nn.functional.pad(values, (0, -n_cols % width))
        return padded.reshape(n_rows, -1, width).sum(2, dtype=self.torch.float64)

    def row_sum64(self, values: Any) -> Any:
        return values.sum(dim=1, dtype=self.torch.float64)

    def take_flat(self, values: Any, flat: Any) -> Any:
        return values.view(-1)[flat]

    def put_flat(self, values: Any, flat: Any, new: Any) -> None:
        values.view(-1)[flat] = new

    def bincount(self, index: Any, weights: Any, length: int) -> Any:
        return self.torch.bincount(index, weights=weights, minlength=length)

    def arange(self, n: int) -> Any:
        return self.torch.arange(n, device=self.device)

    def astype(self, values: Any, dtype: str) -> Any:
        return values.to(self._dtypes[dtype])

    def row_max(self, values: Any) -> Any:
        return values.max(dim=1).values

    def log1p(self, values: Any) -> Any:
        return self.torch.log1p(values.to(self.torch.float64))

    def repeat(self, values: Any, counts: Any) -> Any:
        return self.torch.repeat_interleave(values, counts)

    def concat(self, arrays: list[Any]) -> Any:
        return self.torch.cat(arrays, dim=1)

    def join(self, arrays: list[Any]) -> Any:
        return self.torch.cat(arrays, dim=0)

    def log(self, values: Any) -> Any:
        return self.torch.log(values)

    def sigmoid(self, values: Any) -> Any:
        return self.torch.sigmoid(values)

    def clip(self, values: Any, low: float | None, high: float | None) -> Any:
        return self.torch.clamp(values, low, high)

    def multiply(self, a: Any, b: Any, out: Any) -> Any:
        return self.torch.mul(a, b, out=out)

    def clip_max_(self, values: Any, top: float) -> None:
        values.clamp_(max=top)

    def where(self, condition: Any, a: Any, b: Any) -> Any:
        torch = self.torch
        a = a if isinstance(a, torch.Tensor) else torch.as_tensor(a, device=self.device)
        b = b if isinstance(b, torch.Tensor) else torch.as_tensor(b, device=self.device)
        return torch.where(condition, a, b.to(a.dtype) if b.dtype != a.dtype else b)


Ops = NumpyOps | TorchOps


def make_ops(backend: str = "numpy", device: str = "auto") -> Ops:
    """The ops of ``backend``; ``device`` applies to torch ("auto": CUDA when present)."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
    if backend == "numpy":
        if device == "cuda":
            raise ValueError("device='cuda' needs backend='torch'")
        return NumpyOps()
    try:
        return TorchOps(device)
    except ImportError:
        raise ImportError(
            "backend='torch' needs PyTorch: pip install \"cartgym[agents]\" (or pip install torch)"
        ) from None
