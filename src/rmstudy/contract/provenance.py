"""Input hashes and package versions for the reproducibility record."""

from __future__ import annotations

__all__ = ["file_sha256", "input_hashes", "environment", "PACKAGES"]

import hashlib
import platform
from importlib import metadata
from pathlib import Path

PACKAGES = ("rmstudy", "numpy", "scipy", "pandas", "statsmodels", "pingouin", "matplotlib", "seaborn",
            "papermill", "nbconvert", "nbformat", "jsonschema", "PyYAML", "Jinja2", "weasyprint")


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, as a hex string (read in 1 MB pieces).

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    str
        64 hex digits.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "x.txt"
    >>> _ = p.write_bytes(b"abc")
    >>> file_sha256(p)[:16]
    'ba7816bf8f01cfea'
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def input_hashes(root: str | Path, names) -> dict:
    """Cohort-relative file name -> SHA-256, for the files that exist.

    Parameters
    ----------
    root : str or Path
        The cohort folder.
    names : iterable of str
        File names relative to ``root``.

    Returns
    -------
    dict
        Name -> SHA-256 hex digest, for the names that exist.

    Examples
    --------
    >>> sorted(input_hashes("data/demo", ["study.yaml", "codebook.yaml", "no_such_file.csv"]))
    ['codebook.yaml', 'study.yaml']
    """
    root = Path(root)
    return {n: file_sha256(root / n) for n in names if (root / n).exists()}


def environment() -> dict:
    """The Python version and the version of each package in :data:`PACKAGES` ("not installed" when absent).

    Returns
    -------
    dict
        ``{"python": version, "packages": {name: version}}``.

    Examples
    --------
    >>> env = environment()
    >>> sorted(env), env["packages"]["rmstudy"] != "not installed"
    (['packages', 'python'], True)
    """
    pk = {}
    for p in PACKAGES:
        try:
            pk[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            pk[p] = "not installed"
    return {"python": platform.python_version(), "packages": pk}
