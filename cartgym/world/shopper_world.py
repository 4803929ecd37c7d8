"""ShopperWorld: everything the simulator needs, fitted from logs, saved without pickle.

A world file is a zip of ``.npy`` arrays (``np.savez`` layout) plus one member,
``meta.json``, holding the schema version, the choice-model coefficients and the
fit report. Two schemas exist: version 1 (CartRec-v0's
shoppers, whose basket size is replayed from the logs) and version 2 (CartRec-v1's, who
check out by a fitted :class:`StopModel`; it adds each user's typical basket value).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from cartgym.world.coefficients import ChoiceCoefficients, StopModel

SCHEMA_VERSIONS = (1, 2)  # 1: no stop model (CartRec-v0); 2: with one (CartRec-v1)
SCHEMA_VERSION = SCHEMA_VERSIONS[-1]
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed member dates keep the file bytes reproducible


class WorldFileError(ValueError):
    """A world file that cannot be loaded: wrong schema, missing or tampered members."""


@dataclass(frozen=True, eq=False)
class ShopperWorld:
    """A fitted shopper world over a catalogue of M items and N logged users.

    Items:      ``item_ids``, ``item_names``, ``prices`` (median unit price),
                ``quantities`` (median units per basket line), ``popularity`` (log basket share),
                ``categories`` (index into ``category_names``), ``item_factors`` (M x d).
    Users:      ``user_ids``, ``user_factors`` (N x d), ``history`` (N x M sparse,
                log1p of the number of logged baskets holding the item).
    Pairs:      ``complement`` (M x M sparse, symmetric shrunk PMI; > 0 complements,
                < 0 substitutes).
    Sessions:   ``session_users`` and ``session_sizes``: one entry per logged basket, the user and
                the number of catalogue items; a simulated session replays a logged (user, size).
    Population: ``taste_mean``, ``taste_cov``: Gaussian over tastes, for shoppers with no history.
    Spend:      ``spend_quantiles``: basket value at quantiles 0, 0.01, ..., 1 (101 values).
    Stopping:   ``stop`` (schema 2): the :class:`StopModel`; ``user_basket_values`` (N,) each
                user's median logged basket value (line values of the catalogue items).
    """

    item_ids: np.ndarray
    item_names: np.ndarray
    prices: np.ndarray
    quantities: np.ndarray
    popularity: np.ndarray
    categories: np.ndarray
    category_names: np.ndarray
    item_factors: np.ndarray
    user_ids: np.ndarray
    user_factors: np.ndarray
    history: sp.csr_matrix
    complement: sp.csr_matrix
    session_users: np.ndarray
    session_sizes: np.ndarray
    taste_mean: np.ndarray
    taste_cov: np.ndarray
    spend_quantiles: np.ndarray
    coefficients: ChoiceCoefficients
    meta: dict[str, Any] = field(default_factory=dict)
    stop: StopModel | None = None
    user_basket_values: np.ndarray | None = None

    def __post_init__(self) -> None:
        _check_shapes(self)
        for name in _SPARSE:
            # canonical CSR (sorted, no duplicates) up front: scipy would otherwise sort the
            # indices in place at the first row lookup and change the fingerprint
            getattr(self, name).sum_duplicates()

    @property
    def schema_version(self) -> int:
        """2 for a world with a stop model (CartRec-v1's shoppers), 1 without (CartRec-v0's)."""
        return 1 if self.stop is None else 2

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_factors(self) -> int:
        return int(self.item_factors.shape[1])

    @property
    def line_values(self) -> np.ndarray:
        """Revenue of one accepted item: unit price times the item's median quantity per line."""
        return self.prices * self.quantities

    @property
    def fingerprint(self) -> str:
        """sha256 over every array and coefficient: two worlds with equal content share it."""
        digest = hashlib.sha256()
        for name, array in sorted(_arrays(self).items()):
            digest.update(name.encode())
            digest.update(str(array.dtype).encode() + str(array.shape).encode())
            digest.update(np.ascontiguousarray(array).tobytes())
        digest.update(json.dumps(_coef_dict(self.coefficients), sort_keys=True).encode())
        if self.stop is not None:  # (schema 1 worlds keep the fingerprint they always had)
            digest.update(json.dumps(self.stop.to_dict(), sort_keys=True).encode())
        return digest.hexdigest()

    def top_items(self, n_items: int) -> ShopperWorld:
        """The same world restricted to its ``n_items`` most popular items.

        Coefficients, tastes and history are kept; sessions are resized to the items left
        (sessions left with fewer than two items are dropped). Useful for small, fast worlds.
        """
        if not 2 <= n_items <= self.n_items:
            raise ValueError(f"n_items must be in [2, {self.n_items}], got {n_items}")
        if n_items == self.n_items:
            return self
        keep = np.sort(np.argsort(-self.popularity, kind="stable")[:n_items])
        history = self.history[:, keep].tocsr()
        # A session's size shrinks in proportion to the purchase mass of the items kept.
        share = float(np.exp(self.popularity[keep]).sum() / np.exp(self.popularity).sum())
        sizes = np.maximum(np.rint(self.session_sizes * share), 0).astype(np.int32)
        # basket values shrink with the purchase mass kept too (the stop model is unchanged)
        values = self.user_basket_values
        stop = self.stop
        if values is not None and stop is not None:
            values = values * share
            stop = replace(stop, typical_value=stop.typical_value * share)
        sizes = np.minimum(sizes, n_items)
        ok = sizes >= (2 if self.stop is None else 1)
        meta = dict(self.meta, restricted_from=self.fingerprint, restricted_to=int(n_items))
        return replace(
            self,
            item_ids=self.item_ids[keep],
            item_names=self.item_names[keep],
            prices=self.prices[keep],
            quantities=self.quantities[keep],
            popularity=self.popularity[keep],
            categories=self.categories[keep],
            item_factors=self.item_factors[keep],
            history=history,
            complement=self.complement[keep][:, keep].tocsr(),
            session_users=self.session_users[ok],
            session_sizes=sizes[ok],
            meta=meta,
            stop=stop,
            user_basket_values=values,
        )

    # ------------------------------------------------------------------ files
    def save(self, path: str | Path) -> Path:
        """Write the world to ``path`` (npz layout, pickle-free, byte-for-byte reproducible)."""
        path = Path(path)
        meta = dict(self.meta)
        meta["schema_version"] = self.schema_version
        meta["coefficients"] = _coef_dict(self.coefficients)
        if self.stop is not None:
            meta["stop_model"] = self.stop.to_dict()
        meta["fingerprint"] = self.fingerprint
        tmp = path.with_name(path.name + ".partial")
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, array in sorted(_arrays(self).items()):
                buffer = io.BytesIO()
                np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
                archive.writestr(zipfile.ZipInfo(name + ".npy", _ZIP_DATE), buffer.getvalue())
            text = json.dumps(meta, sort_keys=True, indent=1)
            archive.writestr(zipfile.ZipInfo("meta.json", _ZIP_DATE), text)
        tmp.replace(path)  # atomic: a failed save never leaves a half-written world
        return path

    @classmethod
    def load(cls, path: str | Path) -> ShopperWorld:
        """Read a world written by :meth:`save`; raise :class:`WorldFileError` if it is not one."""
        path = Path(path)
        if not path.is_file():
            raise WorldFileError(f"{path}: no such world file")
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
                if "meta.json" not in names:
                    raise WorldFileError(f"{path}: not a cartgym world (no meta.json member)")
                meta = json.loads(archive.read("meta.json"))
                version = meta.get("schema_version")
                if version not in SCHEMA_VERSIONS:
                    raise WorldFileError(
                        f"{path}: world schema version {version!r}, this cartgym reads versions "
                        f"{list(SCHEMA_VERSIONS)}; refit the world with `cartgym fit`"
                    )
                specs = _specs(version)
                expected = {name + ".npy" for name in specs} | {"meta.json"}
                if names != expected:
                    extra, missing = sorted(names - expected), sorted(expected - names)
                    raise WorldFileError(
                        f"{path}: unexpected members {extra} / missing members {missing}"
                    )
                arrays = {}
                for name in specs:
                    with archive.open(name + ".npy") as member:
                        arrays[name] = np.lib.format.read_array(
                            io.BytesIO(member.read()), allow_pickle=False
                        )
        except (zipfile.BadZipFile, EOFError, OSError, json.JSONDecodeError) as error:
            raise WorldFileError(f"{path}: damaged or truncated world file ({error})") from error
        except ValueError as error:
            if isinstance(error, WorldFileError):
                raise
            raise WorldFileError(f"{path}: unreadable array member ({error})") from error
        for name, (kind, ndim) in specs.items():
            array = arrays[name]
            if array.dtype.kind != kind or array.ndim != ndim:
                raise WorldFileError(
                    f"{path}: member {name!r} has dtype {array.dtype} and {array.ndim} dims, "
                    f"expected kind {kind!r} with {ndim} dims"
                )
        try:
            coefficients = ChoiceCoefficients(**meta.pop("coefficients"))
            stop = StopModel(**meta.pop("stop_model")) if version == 2 else None
            stored = meta.pop("fingerprint")
            world = cls(**_from_arrays(arrays), coefficients=coefficients, meta=meta, stop=stop)
        except (KeyError, TypeError, ValueError) as error:
            raise WorldFileError(f"{path}: inconsistent world ({error})") from error
        if world.fingerprint != stored:
            raise WorldFileError(f"{path}: content does not match its fingerprint (tampered?)")
        return world

    def summary(self) -> str:
        c = self.coefficients
        lines = [
            f"ShopperWorld {self.fingerprint[:12]}: {self.n_items} items, {self.n_users} users, "
            f"{len(self.session_sizes)} logged sessions, {self.n_factors} factors",
            f"  source: {self.meta.get('source', '?')}",
            "  choice coefficients (MLE): "
            + ", ".join(f"{name}={getattr(c, name):+.3f}" for name in c.names()),
            f"  complement pairs: {self.complement.nnz}, median basket size "
            f"{int(np.median(self.session_sizes))}, median price {np.median(self.prices):.2f}",
        ]
        return "\n".join(lines)


# Every array member: (dtype kind, number of dimensions).
_ARRAY_SPECS: dict[str, tuple[str, int]] = {
    "item_ids": ("U", 1),
    "item_names": ("U", 1),
    "prices": ("f", 1),
    "quantities": ("f", 1),
    "popularity": ("f", 1),
    "categories": ("i", 1),
    "category_names": ("U", 1),
    "item_factors": ("f", 2),
    "user_ids": ("U", 1),
    "user_factors": ("f", 2),
    "history_indptr": ("i", 1),
    "history_indices": ("i", 1),
    "history_data": ("f", 1),
    "complement_indptr": ("i", 1),
    "complement_indices": ("i", 1),
    "complement_data": ("f", 1),
    "session_users": ("i", 1),
    "session_sizes": ("i", 1),
    "taste_mean": ("f", 1),
    "taste_cov": ("f", 2),
    "spend_quantiles": ("f", 1),
}
_SPARSE = ("history", "complement")
_STOP_ARRAYS = {"user_basket_values": ("f", 1)}  # schema 2 only


def _specs(version: int) -> dict[str, tuple[str, int]]:
    return {**_ARRAY_SPECS, **(_STOP_ARRAYS if version == 2 else {})}


def _arrays(world: ShopperWorld) -> dict[str, np.ndarray]:
    out = {}
    for name in _specs(world.schema_version):
        head, _, part = name.rpartition("_")
        if head in _SPARSE:
            out[name] = getattr(getattr(world, head), part)
        else:
            out[name] = getattr(world, name)
    return out


def _from_arrays(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        name: array for name, array in arrays.items() if name.rpartition("_")[0] not in _SPARSE
    }
    n_items, n_users = len(arrays["item_ids"]), len(arrays["user_ids"])
    shapes = {"history": (n_users, n_items), "complement": (n_items, n_items)}
    for name in _SPARSE:
        parts = (arrays[f"{name}_data"], arrays[f"{name}_indices"], arrays[f"{name}_indptr"])
        kwargs[name] = sp.csr_matrix(parts, shape=shapes[name])
    return kwargs


def _coef_dict(coefficients: ChoiceCoefficients) -> dict[str, float]:
    return {name: float(getattr(coefficients, name)) for name in coefficients.names()}


def _check_shapes(world: ShopperWorld) -> None:
    m, n, d = world.n_items, world.n_users, world.item_factors.shape[1]
    expected = {
        "item_names": (m,),
        "prices": (m,),
        "quantities": (m,),
        "popularity": (m,),
        "categories": (m,),
        "item_factors": (m, d),
        "user_factors": (n, d),
        "history": (n, m),
        "complement": (m, m),
        "session_sizes": world.session_users.shape,
        "taste_mean": (d,),
        "taste_cov": (d, d),
        "spend_quantiles": (101,),
    }
    for name, shape in expected.items():
        actual = getattr(world, name).shape
        if tuple(actual) != shape:
            raise ValueError(f"world array {name!r} has shape {actual}, expected {shape}")
    if m < 2:
        raise ValueError(f"a world needs at least 2 items, got {m}")
    if not np.all(np.isfinite(world.prices)) or np.any(world.prices <= 0):
        raise ValueError("world prices must be finite and positive")
    if len(world.session_users) == 0:
        raise ValueError("a world needs at least one logged session")
    if world.session_users.min() < 0 or world.session_users.max() >= n:
        raise ValueError("session_users index outside the user table")
    if world.session_sizes.min() < 1:
        raise ValueError("session sizes must be positive")
    if (world.stop is None) != (world.user_basket_values is None):
        raise ValueError("a world has both a stop model and user_basket_values, or neither")
    if world.user_basket_values is not None and (
        world.user_basket_values.shape != (n,) or not (world.user_basket_values > 0).all()
    ):
        raise ValueError(f"user_basket_values must be {n} positive values")
    if world.categories.min() < 0 or world.categories.max() >= len(world.category_names):
        raise ValueError("categories index outside category_names")
    for name in _SPARSE:
        matrix = getattr(world, name)
        if matrix.nnz and (matrix.indices.min() < 0 or matrix.indices.max() >= matrix.shape[1]):
            raise ValueError(f"world array {name!r} has column indices out of range")
