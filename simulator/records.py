"""A columnar store: one typed numpy array per column, grown a chunk at a time, turned into a DataFrame once.

Rows are written at given row numbers (not necessarily in order, so a writer can place each row where it belongs
in the final order instead of sorting afterwards). Each column's array has room for a whole number of chunks and
doubles when a row beyond it arrives; room never written is never touched, so it costs address space, not memory.
A categorical column holds the codes of a fixed list of categories in the smallest integer type that counts them
(as pandas does). :meth:`ColumnStore.to_frame` hands the arrays to pandas without copying them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

#: Rows per chunk: the columns' room is a whole number of chunks.
CHUNK_ROWS = 65536
_CODE_TYPES = (np.int8, np.int16, np.int32, np.int64)
Array = npt.NDArray[Any]


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its name, the dtype stored and, for a categorical column, its categories (codes stored)."""

    name: str
    dtype: np.dtype[np.generic]
    categories: tuple[str, ...] | None = None


def numeric(name: str, dtype: npt.DTypeLike) -> Column:
    """A column of ``dtype`` values."""
    return Column(name, np.dtype(dtype))


def categorical(name: str, categories: Sequence[str]) -> Column:
    """A column of values from ``categories``, stored as their codes (-1 for missing)."""
    code_type = next(t for t in _CODE_TYPES if len(categories) < np.iinfo(t).max)
    return Column(name, np.dtype(code_type), tuple(categories))


class ColumnStore:
    """Typed columns of ``rows`` rows (one more than the highest row written) with room for ``capacity``."""

    def __init__(self, columns: Sequence[Column], chunk_rows: int = CHUNK_ROWS) -> None:
        self.columns = {column.name: column for column in columns}
        self.chunk_rows = chunk_rows
        self.rows = 0
        self.capacity = chunk_rows
        self._arrays = {name: np.empty(chunk_rows, dtype=column.dtype) for name, column in self.columns.items()}

    def __len__(self) -> int:
        return self.rows

    def write(self, rows: npt.NDArray[np.intp], values: Mapping[str, npt.ArrayLike]) -> None:
        """Write the rows numbered ``rows``: per column an array of values (codes for a categorical column), or
        one value for all of them. A row never written holds an undefined value."""
        if rows.size == 0:
            return
        end = int(rows.max()) + 1
        if end > self.capacity:
            self._grow(end)
        for name, array in self._arrays.items():
            array[rows] = values[name]
        self.rows = max(self.rows, end)

    def _grow(self, end: int) -> None:
        chunks = -(-end // self.chunk_rows)
        self.capacity = max(2 * self.capacity, chunks * self.chunk_rows)
        for name, old in self._arrays.items():
            new = np.empty(self.capacity, dtype=old.dtype)
            new[:self.rows] = old[:self.rows]
            self._arrays[name] = new

    def to_arrays(self) -> dict[str, Array]:
        """The columns' values (codes for a categorical column), handed over without a copy; empties the store."""
        arrays = {name: array[:self.rows] for name, array in self._arrays.items()}
        self._arrays = {name: np.empty(0, dtype=column.dtype) for name, column in self.columns.items()}
        self.rows = self.capacity = 0
        return arrays

    def to_frame(self) -> pd.DataFrame:
        """The rows as a DataFrame that takes over the arrays (no copy of numeric columns); empties the store."""
        data: dict[str, Any] = {}
        for name, values in self.to_arrays().items():
            categories = self.columns[name].categories
            data[name] = (values if categories is None
                          else pd.Categorical.from_codes(values, categories=pd.Index(categories)))
        return pd.DataFrame(data, copy=False)
