"""Resolve the paths a notebook is given, wherever it is run from."""

from __future__ import annotations

__all__ = ["find_path"]

from pathlib import Path


def find_path(p: str) -> Path:
    """Return ``p`` as given when it exists relative to the working directory;
    else the first match relative to a parent folder (a notebook opened in
    notebooks/ still finds ``data/demo``); else ``p`` unchanged (for outputs).

    Parameters
    ----------
    p : str
        A relative path such as ``data/demo``.

    Returns
    -------
    Path
        The path found, or ``p`` as a Path.

    Examples
    --------
    >>> find_path("data/demo").name                  # from the project folder or any folder below it
    'demo'
    >>> str(find_path("no/such/folder"))
    'no/such/folder'
    """
    path = Path(p)
    if path.is_absolute() or path.exists():
        return path
    for parent in Path.cwd().parents:
        cand = parent / path
        if cand.exists():
            return cand
    return path
