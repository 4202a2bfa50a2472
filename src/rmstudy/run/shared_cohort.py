"""The analysis cohort of a run: loaded and checked once, read by every notebook.

``rmstudy run`` loads the input snapshot (``inputs/<cohort>/``) once, when it validates it. It then writes that
cohort as the analyses use it (:func:`~rmstudy.contract.cohort.analysis_cohort`: the typed tables after the run's
exclusions, with the codebook and the plan) to one file of the run's scratch folder (removed on every exit path),
named :data:`SHARED_NAME` with the SHA-256 of its own bytes, and holding the SHA-256 of every input file it was read
from. Each notebook is given that file (parameter ``cohort_cache``) and reads it
with :func:`shared_cohort` instead of parsing and checking the CSVs again: at 100,000 participants that took about
8 s and several hundred MB in each of five notebooks.

Before unpickling, :func:`shared_cohort` checks the file's bytes against the digest in its name (an empty, changed or
foreign file is refused in one line: unpickling runs code). It then hashes the input files in ``cohort_dir`` again and refuses the file
when any differs, so what results.json hashes is what was analysed. Without a file (a notebook run by hand, or
rerun after the run deleted it) the cohort folder is loaded as before. The file is written with :mod:`pickle`
(pyarrow is not a dependency), so it is only ever read from the run's own scratch folder, after the digest check.
"""

from __future__ import annotations

__all__ = ["shared_cohort", "write_shared_cohort", "release_memory", "SHARED_NAME", "FORMAT"]

import ctypes
import dataclasses
import gc
import hashlib
import os
import pickle
from pathlib import Path

from rmstudy.contract.cohort import RUN_INPUT_FILES, Cohort, analysis_cohort
from rmstudy.contract.provenance import input_hashes
from rmstudy.errors import CohortError, Problem

#: the file's name inside the build folder's ``inputs/`` (a dot file: never mistaken for a cohort folder)
SHARED_NAME = ".analysis_cohort.pickle"
#: bumped whenever what the file holds changes; a file of another format is not used
FORMAT = 1


def write_shared_cohort(cohort: Cohort, path: str | Path) -> Path:
    """Write ``cohort`` (an analysis cohort loaded from ``cohort.root``) and the hashes of its input files to
    ``path``; returns the path. Written beside the target and renamed, so a reader never sees half a file.

    Parameters
    ----------
    cohort : Cohort
        :func:`~rmstudy.contract.cohort.analysis_cohort` of its folder.
    path : str or Path
        The file to write (the run's build folder's ``inputs/`` + :data:`SHARED_NAME`).

    Returns
    -------
    Path
        The file written: ``path`` with the SHA-256 of its bytes in its name, which :func:`shared_cohort` checks
        before it unpickles anything (:func:`shared_cohort`'s example writes one and reads it back).
    """
    path = Path(path)
    blob = {"format": FORMAT, "inputs": input_hashes(cohort.root, RUN_INPUT_FILES),
            "cohort": dataclasses.replace(cohort, root=None)}
    data = pickle.dumps(blob, protocol=pickle.HIGHEST_PROTOCOL)
    final = path.with_name(f"{path.stem}.{hashlib.sha256(data).hexdigest()}{path.suffix}")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return final


def shared_cohort(cohort_dir: str | Path, cache: str | Path | None = "") -> Cohort:
    """The analysis cohort of ``cohort_dir``: read from ``cache`` (written by :func:`write_shared_cohort`) when
    that file exists, else loaded and checked from the folder (:func:`~rmstudy.contract.cohort.analysis_cohort`).

    Raises :class:`~rmstudy.errors.CohortError` when an input file in ``cohort_dir`` no longer has the SHA-256
    it had when the cache was written (the file would not be what was checked and hashed).

    Parameters
    ----------
    cohort_dir : str or Path
    cache : str or Path, optional
        The file :func:`write_shared_cohort` wrote; empty or None: load the folder.

    Returns
    -------
    Cohort

    Examples
    --------
    >>> import shutil, tempfile
    >>> base = Path(tempfile.mkdtemp())
    >>> cohort = Path(shutil.copytree("data/demo", base / "demo"))       # the demo cohort of a source checkout
    >>> cache = write_shared_cohort(shared_cohort(cohort), base / SHARED_NAME)
    >>> c = shared_cohort(cohort, cache)                                    # read from the file, not the CSVs
    >>> c.root == cohort, len(c.participants)
    (True, 600)
    >>> with open(cohort / "responses.csv", "a", encoding="utf-8") as fh:
    ...     _ = fh.write("\\n")
    >>> try:
    ...     shared_cohort(cohort, cache)
    ... except CohortError as e:
    ...     print(e.problems[0].file)
    responses.csv
    """
    root = Path(cohort_dir)
    if not cache or not Path(cache).is_file():
        return analysis_cohort(root)
    data = Path(cache).read_bytes()
    if hashlib.sha256(data).hexdigest() != Path(cache).stem.rsplit(".", 1)[-1]:     # checked before unpickling
        raise CohortError(Problem(Path(cache).name, "is not the cohort rmstudy run wrote (empty, changed or "
                                  "another file: its SHA-256 is not the one in its name)",
                                  "run `rmstudy run` again, or leave cohort_cache empty to load cohort_dir"))
    blob = pickle.loads(data)
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        return analysis_cohort(root)
    now = input_hashes(root, RUN_INPUT_FILES)
    changed = sorted(n for n in set(now) | set(blob["inputs"]) if now.get(n) != blob["inputs"].get(n))
    if changed:
        raise CohortError(Problem(changed[0], "changed after rmstudy run checked it (its SHA-256 differs from the "
                                  "one recorded when the cohort was loaded)",
                                  "nothing may write into the run's inputs folder while it runs; run again"))
    return dataclasses.replace(blob["cohort"], root=root)


def release_memory() -> None:
    """Collect garbage and hand the freed heap back to the operating system.

    glibc's allocator keeps freed memory for reuse: after the cohort's tables are dropped the process still
    holds it (about 250 MB at 100,000 participants) while the kernels load their own copies. ``malloc_trim``
    returns it; where there is no glibc this only collects garbage.

    Examples
    --------
    >>> release_memory()                     # returns nothing; the process' resident memory may fall
    """
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
