"""Row numbers as a spreadsheet shows them: the header is row 1, the first data row is row 2.

Every message that names a row of a cohort CSV, an export or an HR extract uses these two functions, so the
numbering is written once.
"""

from __future__ import annotations

__all__ = ["HEADER_ROWS", "spreadsheet_row", "data_index"]

#: rows above the first data row (the header); a table read with its header on row 1
HEADER_ROWS = 1


def spreadsheet_row(index, header_rows: int = HEADER_ROWS):
    """The spreadsheet row of the ``index``-th (0-based) data row.

    Parameters
    ----------
    index : int or numpy array of int
        0-based position of the data row below the header (a pandas position, not a label).
    header_rows : int, default 1
        Rows above the first data row.

    Returns
    -------
    int or numpy array
        ``index + header_rows + 1``: a plain ``int`` for a scalar, an array for an array.

    Examples
    --------
    >>> spreadsheet_row(0)
    2
    >>> import numpy as np
    >>> spreadsheet_row(np.array([0, 3])).tolist()
    [2, 5]
    """
    if getattr(index, "ndim", 0) > 0:
        return index + header_rows + 1
    return int(index) + header_rows + 1


def data_index(row, header_rows: int = HEADER_ROWS):
    """The 0-based data position of a spreadsheet row: the inverse of :func:`spreadsheet_row`.

    Parameters
    ----------
    row : int or numpy array of int
        Spreadsheet row(s), the header being row 1.
    header_rows : int, default 1
        Rows above the first data row.

    Returns
    -------
    int or numpy array
        ``row - header_rows - 1``.

    Examples
    --------
    >>> data_index(2)
    0
    >>> data_index(spreadsheet_row(41))
    41
    """
    if getattr(row, "ndim", 0) > 0:
        return row - header_rows - 1
    return int(row) - header_rows - 1
