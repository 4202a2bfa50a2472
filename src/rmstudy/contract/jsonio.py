"""JSON writing, once for every file rmstudy writes: results.json, the notebook records, validation.json and the
run's manifest.

One format: UTF-8, two-space indent (with ``rows_per_line``, a table such as validation.json's findings has one
row per line), non-ASCII kept as it is, ``\\n`` line ends and a final newline; numpy and
pandas values become plain JSON (:func:`to_jsonable`: NaN and infinities become ``null``, dates ISO 8601), so
the same object always gives the same bytes. The file is written beside its target, flushed to the disk
(``fsync``) and renamed into place, and then the folder is flushed too, so a reader never sees half a file and a
power cut cannot leave a renamed but empty file behind; large objects are encoded in pieces, never as one string.
"""

from __future__ import annotations

__all__ = ["to_jsonable", "write_json", "fsync_dir", "Rows"]

import datetime as _dt
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

_PLAIN = (str, int, bool, type(None))


def to_jsonable(obj):
    """Convert numpy/pandas values to plain JSON types (NaN -> null), recursively.

    Parameters
    ----------
    obj : any object; mappings, lists, tuples and DataFrames (as records) are converted item by item.

    Returns
    -------
    object
        Plain ``dict``/``list``/``str``/``int``/``float``/``bool``/``None``; other objects are returned unchanged.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> to_jsonable({"n": np.int64(3), "x": float("nan"), "when": pd.Timestamp("2024-01-31"), "ok": np.bool_(True)})
    {'n': 3, 'x': None, 'when': '2024-01-31', 'ok': True}
    >>> to_jsonable(pd.DataFrame({"a": [1.5]}))
    [{'a': 1.5}]
    """
    if type(obj) in _PLAIN:                       # the common case first: validation.json has ~10 per finding
        return obj
    if isinstance(obj, Mapping):                  # a dict, or a typed row that reads as one (its to_dict order)
        return {str(k): v if type(v) in _PLAIN else to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, pd.DataFrame):
        return to_jsonable(obj.to_dict(orient="records"))
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        return None if math.isnan(x) or math.isinf(x) else x
    if isinstance(obj, (pd.Timestamp, _dt.date)):
        return obj.isoformat()[:10]
    return obj


class Rows:
    """A table for :func:`write_json` with ``rows_per_line``, given as its items and the function that turns one
    into a flat mapping of plain JSON values. The mappings are made a batch at a time while the file is written,
    never all at once: validation.json's ~300,000 findings at 100,000 participants would take ~400 MB as dicts.

    Parameters
    ----------
    items : a sequence. as_row : callable, item -> mapping of plain values (:func:`to_jsonable`'s output).

    Examples
    --------
    >>> import tempfile
    >>> p = write_json({"n": Rows([1, 2], lambda i: {"i": i})}, Path(tempfile.mkdtemp()) / "r.json", convert=False,
    ...                rows_per_line=True)
    >>> print(p.read_text(), end="")
    {
      "n": [
        {"i": 1},
        {"i": 2}
      ]
    }
    """

    def __init__(self, items, as_row):
        self.items, self.as_row = items, as_row

    def __len__(self) -> int:
        return len(self.items)

    def batch(self, start: int, stop: int) -> list:
        return [self.as_row(x) for x in self.items[start:stop]]


def _is_rows(value) -> bool:
    """A list of mappings: a table, such as validation.json's findings (a row's own lists stay on its line)."""
    return isinstance(value, list) and bool(value) and all(isinstance(r, dict) for r in value)


def _row_chunks(obj: dict, sort_keys: bool):
    """The text of ``obj`` (a mapping), as the two-space format writes it, except that each of its tables
    (:func:`_is_rows`) has one row per line, encoded by json's C encoder: 170,000 findings take 0.4 s rather
    than the 3.9 s of the pure-Python indenting encoder, and a table reads (and greps) a row a line."""
    nested = json.JSONEncoder(ensure_ascii=False, indent=2, allow_nan=False, sort_keys=sort_keys)
    row = json.JSONEncoder(ensure_ascii=False, allow_nan=False, sort_keys=sort_keys, separators=(", ", ": "))
    items = sorted(obj.items()) if sort_keys else list(obj.items())
    if not items:
        yield "{}"
        return
    yield "{"
    for k, (key, value) in enumerate(items):
        yield ("," if k else "") + "\n  " + row.encode(str(key)) + ": "
        if isinstance(value, Rows) and not len(value):
            yield "[]"
        elif isinstance(value, Rows) or _is_rows(value):
            yield "[\n"
            for i in range(0, len(value), 4096):
                batch = value.batch(i, i + 4096) if isinstance(value, Rows) else value[i:i + 4096]
                yield ",\n".join("    " + row.encode(r) for r in batch) + (",\n" if i + 4096 < len(value) else "\n")
            yield "  ]"
        else:
            yield nested.encode(value).replace("\n", "\n  ")
    yield "\n}"


def _write_pieces(fh, chunks, size: int = 1 << 20) -> None:
    """Write the text ``chunks`` in pieces of about ``size`` characters: the iterative encoder's many small chunks
    joined, a table's batches of rows (each ~2 MB) one by one. Never the whole text at once: joined, 150 MB of
    validation.json held ~750 MB (the chunks, their join and its UTF-8 bytes)."""
    parts, n = [], 0
    for part in chunks:
        parts.append(part)
        n += len(part)
        if n >= size:
            fh.write("".join(parts))
            parts, n = [], 0
    fh.write("".join(parts))


def write_json(obj, path: str | Path, *, convert: bool = True, sort_keys: bool = False,
               rows_per_line: bool = False) -> Path:
    """Write ``obj`` as JSON to ``path`` (parent folders created) and return the path.

    Parameters
    ----------
    obj : a JSON-ready object, or one holding numpy/pandas values when ``convert`` is true.
    path : where to write; replaced atomically.
    convert : pass ``obj`` through :func:`to_jsonable` first (default). An object already made of plain
        ``dict``/``list``/``str``/``int``/``float``/``None`` may skip it; NaN is refused either way.
    sort_keys : write every mapping's keys in sorted order (e.g. a simulation's truth.json).
    rows_per_line : write each table of a mapping (a list of flat mappings, such as validation.json's findings,
        or a :class:`Rows`) one row per line; the same JSON value, encoded about ten times faster.

    Returns
    -------
    pathlib.Path
        ``path``, written.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> p = write_json({"b": np.float64(0.5), "a": "é"}, Path(tempfile.mkdtemp()) / "x.json")
    >>> p.read_bytes()
    b'{\\n  "b": 0.5,\\n  "a": "\\xc3\\xa9"\\n}\\n'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    value = to_jsonable(obj) if convert else obj
    chunks = (_row_chunks(value, sort_keys) if rows_per_line and isinstance(value, dict) else
              json.JSONEncoder(ensure_ascii=False, indent=2, allow_nan=False, sort_keys=sort_keys).iterencode(value))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            _write_pieces(fh, chunks)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())          # the bytes on the disk before the name points at them
        tmp.replace(path)
        fsync_dir(path.parent)             # and the new name on the disk too
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def fsync_dir(path: str | Path) -> None:
    """Flush a folder's entries (a file created or renamed in it) to the disk. File systems that cannot sync a
    folder (some network and FUSE ones) are skipped: there the rename is as durable as they make it.

    Parameters
    ----------
    path : the folder.

    Examples
    --------
    >>> import tempfile
    >>> fsync_dir(tempfile.mkdtemp()) is None
    True
    >>> fsync_dir("no/such/folder") is None          # skipped, not raised
    True
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
