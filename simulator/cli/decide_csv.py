"""CSV input and output of ``mecsim decide --batch``: whole columns parsed at once with pyarrow.

A column holds plain numbers (SI) or quantities with units (``300kB``, ``9 ms``); units are parsed once per distinct
unit, not once per row, so a million rows take about a second.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from offload.errors import ParameterError
from offload.units import NUMBER_PATTERN, Dimension, scale, unit_factor
from simulator.files import replacing

FloatArray = npt.NDArray[np.float64]


def _line(row: int) -> int:
    """CSV line of data row ``row`` (the header is line 1)."""
    return row + 2


def read_table(path: Path) -> pa.Table:
    """Read ``path`` as CSV with a header row; empty cells become nulls."""
    options = pacsv.ConvertOptions(strings_can_be_null=True)
    try:
        table = pacsv.read_csv(path, convert_options=options)
    except (pa.ArrowInvalid, OSError) as error:
        detail = " ".join(str(error).split())  # arrow messages may span lines; the CLI error is one line
        raise ParameterError("--batch", str(path), f"is not a readable CSV file ({detail})") from error
    repeated = sorted({name for name in table.column_names if table.column_names.count(name) > 1})
    if repeated:
        raise ParameterError(f"--batch {path}, line 1", ", ".join(repeated), "a column name appears more than once")
    for name, column in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):  # arrow's type for non-UTF-8
            row = next(row for row, cell in enumerate(column.to_pylist()) if not _utf8(cell))
            raise ParameterError(f"--batch {path} (column {name!r}), line {_line(row)}", column[row].as_py(),
                                 "is not UTF-8 text (save the file as UTF-8)")
    return table


def _utf8(cell: bytes | None) -> bool:
    try:
        (cell or b"").decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def column_values(table: pa.Table, column: str, option: str, dimension: Dimension,
                  empty: float | None = None) -> FloatArray:
    """Column ``column`` as SI floats; errors name the option, the CSV line and the rule.

    Empty cells take the value ``empty`` (an optional quantity's default) or are an error when it is ``None``.
    """
    data = table.column(column)
    where = f"{option} (column {column!r})"
    if data.null_count and empty is None:
        first = int(np.flatnonzero(data.is_null().to_numpy(zero_copy_only=False))[0])
        raise ParameterError(f"{where}, line {_line(first)}", None, "missing value (every row needs one)")
    if data.null_count:
        if pa.types.is_null(data.type):  # every cell empty
            return np.full(len(data), empty, dtype=np.float64)
        zero = pa.scalar("0" if pa.types.is_string(data.type) else 0, type=data.type)
        filled = table.set_column(table.column_names.index(column), column, pc.fill_null(data, zero))
        values = column_values(filled, column, option, dimension)
        values[data.is_null().to_numpy(zero_copy_only=False)] = empty
        return values
    if pa.types.is_integer(data.type) or pa.types.is_floating(data.type):
        return np.asarray(data.cast(pa.float64()).to_numpy(), dtype=np.float64)
    if not pa.types.is_string(data.type) and not pa.types.is_large_string(data.type):
        data = data.cast(pa.string())
    parts = pc.extract_regex(data, NUMBER_PATTERN)
    if parts.null_count:
        first = int(np.flatnonzero(parts.is_null().to_numpy(zero_copy_only=False))[0])
        raise ParameterError(f"{where}, line {_line(first)}", data[first].as_py(),
                             "expected a number with an optional unit")
    numbers = pc.cast(pc.struct_field(parts, "number"), pa.float64()).to_numpy()
    units = pc.struct_field(parts, "unit").combine_chunks().dictionary_encode()
    codes = units.indices.to_numpy(zero_copy_only=False)
    values = np.empty(len(numbers))
    for code, unit in enumerate(units.dictionary.to_pylist()):
        rows = codes == code
        first = int(np.flatnonzero(rows)[0])
        try:
            factor = unit_factor(unit, dimension, option)
        except ParameterError as error:
            raise ParameterError(f"{where}, line {_line(first)}", data[first].as_py(), error.rule) from error
        values[rows] = scale(numbers[rows], factor)
    return values


def check_column(values: FloatArray, label: str, *, positive: bool, rows_are_lines: bool,
                 allow_inf: bool = False) -> None:
    """Reject NaN and values breaking the rule, naming the first offending row (as a CSV line when batch)."""
    low = float(values.min()) if values.size else 0.0
    if ((low > 0) if positive else (low >= 0)) and (allow_inf or np.isfinite(values).all()):
        return
    bad = ~((values > 0) if positive else (values >= 0)) | (np.isnan(values) if allow_inf else ~np.isfinite(values))
    row = int(np.flatnonzero(bad)[0])
    value = float(values[row])
    name = f"{label}, line {_line(row)}" if rows_are_lines else label
    if np.isnan(value):
        raise ParameterError(name, value, "must be a number, not NaN")
    raise ParameterError(name, value, ("must be > 0" if positive else "must be >= 0") + " and finite")


def labels(values: npt.NDArray[np.generic], names: tuple[str, ...]) -> pa.DictionaryArray:
    """A column of a few distinct labels as an arrow dictionary array (converting numpy strings row by row is slow)."""
    codes = np.zeros(len(values), dtype=np.int8)
    for code, name in enumerate(names):
        codes[values == name] = code
    return pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(list(names)))


def write_table(columns: dict[str, npt.NDArray[np.generic] | pa.Array], sink: Path | BinaryIO) -> None:
    """Write named equal-length columns as CSV with a header; a file is replaced atomically."""
    table = pa.table(columns)
    if isinstance(sink, Path):
        with replacing(sink) as temporary:
            pacsv.write_csv(table, str(temporary))
    else:
        pacsv.write_csv(table, pa.PythonFile(sink, mode="w"))
