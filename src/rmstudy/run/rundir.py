"""The run folder: built beside ``--out``, swapped in whole on success, under a lock.

``rmstudy run COHORT --out OUT`` never writes into OUT while it works, so OUT always holds one complete run or
the previous one, whatever stops the run (an error, a full disk, Ctrl-C, SIGKILL):

1. **Checks OUT** before anything starts: not a file, its parent a folder (made when missing), nothing in OUT
   that rmstudy did not write (the whole folder is replaced, so a file of the user's would be lost), writable.
2. **Locks OUT**: an exclusive ``flock`` on ``PARENT/.OUT.rmstudy-lock``. The operating system releases it when
   the process ends, SIGKILL included, so a lock is never stale. A second run into OUT stops at once with
   :class:`RunLocked`, naming the process that holds it.
3. **Sweeps** what a killed run into OUT left beside it (``PARENT/.OUT.rmstudy-build-*``, and the kernels it
   started if they still run), and puts back a previous run that a kill left aside (``.OUT.rmstudy-old-*``, only
   on file systems without an atomic exchange, see 6).
4. **Builds** the run in ``PARENT/.OUT.rmstudy-build-XXXXXXXX/run`` (the same folder, hence the same file
   system as OUT); kernel connection files and other scratch files go to ``.../scratch``.
5. **Snapshots the inputs**: the cohort files are copied into ``run/inputs/<cohort name>/`` and every notebook
   reads that copy, so the hashes in results.json are those of the bytes analysed even if the cohort's files are
   replaced while the run goes on. A file that changes while it is copied is copied again.
6. **Swaps** on success: every file and folder of the new run is flushed to the disk (``fsync``) first, so a
   power cut after the swap cannot leave OUT pointing at empty or half-written files; then ``run`` and OUT trade
   places in one step (Linux ``renameat2(RENAME_EXCHANGE)``); where the file system cannot exchange, OUT is
   renamed aside and the new run renamed in (two steps, which 3 repairs after a kill between them); then the
   folder holding OUT is flushed, so the swap itself is on the disk. The old run is then deleted with the build
   folder.

Whatever stops the run, :meth:`RunFolder.close` deletes the build folder (Ctrl-C during that clean-up is held
back until it is done). Errors writing any of this become :class:`OutputError` with one line saying what
happened and what to do.
"""

from __future__ import annotations

__all__ = ["RunFolder", "RunLocked", "OutputError", "RUN_FILES", "snapshot_inputs", "output_error", "INPUTS"]

import errno
import os
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

from rmstudy.contract.cohort import RUN_INPUT_FILES
from rmstudy.contract.jsonio import fsync_dir
from rmstudy.errors import CohortError, Problem, RmstudyError

#: what a run folder holds at its top level; anything else in an existing --out is the user's and is refused
RUN_FILES = frozenset({"results.json", "validation.json", "manifest.json", "academic_report.html",
                       "academic_report.pdf", "notebooks", "records", "figures", "inputs", "hr",
                       "hr_report.html", "hr_report.pdf"})       # the last two: run folders of rmstudy <= 0.1.0
#: cohort files copied into the run (``ingest_report.json`` only when ingest wrote one)
INPUTS = RUN_INPUT_FILES
_TAG = ".rmstudy-"


class RunLocked(RmstudyError):
    """Another ``rmstudy run`` is writing the same ``--out``.

    Examples
    --------
    >>> from rmstudy.errors import RmstudyError
    >>> issubclass(RunLocked, RmstudyError)
    True
    """


class OutputError(RmstudyError):
    """The run folder cannot be written: a full disk, a read-only folder or file system, no permission (``usage``
    False), or an ``--out`` that cannot be used at all: a file, under a file, or holding files rmstudy did not
    write (``usage`` True; found before anything starts). ``errno`` as OSError's.

    Parameters
    ----------
    message : str
    errno_ : int, optional
        Kept as ``errno``.
    usage : bool
        The ``--out`` given cannot be used (a usage error, not a disk's).

    Examples
    --------
    >>> import errno
    >>> e = OutputError("--out run.txt is a file; give a folder for the run", errno.ENOTDIR, usage=True)
    >>> e.errno == errno.ENOTDIR, e.usage
    (True, True)
    """

    def __init__(self, message: str, errno_: int | None = None, usage: bool = False):
        super().__init__(message)
        self.errno = errno_
        self.usage = usage


def _shown(p) -> str:
    """A path as the user should read it: relative to the working folder when inside it."""
    p = Path(p)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(p)


def _inside(path, folder: Path) -> bool:
    try:
        Path(path).resolve().relative_to(Path(folder).resolve())
    except (ValueError, OSError):
        return False
    return True


def _where(filename, out: Path) -> str:
    """The file an OSError names, as the user knows it: a file of the run being built is named by its path inside
    the run ('notebooks/x.ipynb of the new run'), the lock and build folders by the folder holding --out."""
    if not filename:
        return _shown(out.parent)
    path = Path(os.fsdecode(filename))
    parts = path.parts
    for i, part in enumerate(parts):
        if part.startswith(f".{out.name}{_TAG}"):
            inner = parts[i + 2:] if i + 1 < len(parts) and parts[i + 1] == "run" else ()
            return f"{Path(*inner).as_posix()} of the new run" if inner else _shown(path.parents[len(parts) - i - 1])
    return _shown(path)


def output_error(e: OSError, out: Path, doing: str | None = None) -> OutputError:
    """One line for an OSError met while building the run for ``out``: what happened and what to do.

    Parameters
    ----------
    e : OSError
    out : Path
        The run's ``--out``.
    doing : str, optional
        ``writing`` or ``reading`` (default: from where the file named by ``e`` is).

    Returns
    -------
    OutputError

    Examples
    --------
    >>> import errno
    >>> e = output_error(OSError(errno.ENOSPC, "No space left on device"), Path("reports/never-made"))
    >>> print(e)
    the disk is full (no space left on the device while writing reports); nothing was written to reports/never-made. \
Free some space, or give an --out on another disk, and run again
    >>> e.usage, output_error(OSError(errno.ENOTDIR, "Not a directory", "a/b"), Path("a/b/run")).usage
    (False, True)
    """
    out = Path(out)
    where = _where(e.filename, out)
    if doing is None:
        doing = "writing" if not e.filename or _inside(e.filename, out.parent) else "reading"
    kept = f"{_shown(out)} is unchanged" if out.exists() else f"nothing was written to {_shown(out)}"
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        msg = (f"the disk is full (no space left on the device while {doing} {where}); {kept}. Free some space, or "
               f"give an --out on another disk, and run again")
    elif e.errno == errno.EROFS:
        msg = f"{_shown(out.parent)} is on a read-only file system; {kept}. Give an --out on a writable disk"
    elif e.errno in (errno.EACCES, errno.EPERM):
        msg = (f"permission denied {doing} {where}; {kept}. Make the folder writable for you (chmod u+w) or give "
               f"another --out")
    elif e.errno in (errno.ENOTDIR, errno.EEXIST):
        msg = f"{where}: a file is in the way of the run folder; give an --out whose parents are folders"
        return OutputError(msg, e.errno, usage=True)
    else:
        msg = f"{e.strerror or e} while {doing} {where}; {kept}"
    return OutputError(msg, e.errno)


def _file_in_the_way(out: Path) -> Path | None:
    for p in (out, *out.parents):
        if p.exists():
            return None if p.is_dir() else p
    return None


def _check_out(out: Path) -> None:
    """Refuse an --out that cannot be replaced safely (a file, a file above it, someone else's folder, read-only)."""
    blocker = _file_in_the_way(out)
    if blocker == out:
        raise OutputError(f"--out {_shown(out)} is a file; give a folder for the run", errno.ENOTDIR, usage=True)
    if blocker is not None:
        raise OutputError(f"--out {_shown(out)}: {_shown(blocker)} is a file, not a folder; give an --out whose "
                          "parent folders are folders", errno.ENOTDIR, usage=True)
    if out.is_dir():
        foreign = sorted(p.name for p in out.iterdir() if p.name not in RUN_FILES and not p.name.endswith(".tmp"))
        if foreign:
            shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
            raise OutputError(f"--out {_shown(out)} holds files rmstudy did not write ({shown}); a run replaces the "
                              "whole folder, so they would be lost. Move them, or give a new or empty folder as --out",
                              errno.EEXIST, usage=True)
        if not os.access(out, os.W_OK | os.X_OK):
            if os.statvfs(out).f_flag & os.ST_RDONLY:
                raise OutputError(f"{_shown(out.parent)} is on a read-only file system; {_shown(out)} is unchanged. "
                                  "Give an --out on a writable disk", errno.EROFS)
            raise OutputError(f"--out {_shown(out)} is read-only (permission denied); {_shown(out)} is unchanged. "
                              "Make it writable (chmod u+w) or give another --out", errno.EACCES)


def _lock_holder(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""
    return f" ({text})" if text else ""


class RunFolder:
    """A run being built beside ``out``; see the module docstring. Use as a context manager::

        with RunFolder(out) as rf:
            ... write into rf.build ...
            rf.commit()          # OUT now holds the new run

    Parameters
    ----------
    out : str or Path
        The run folder ``--out``.

    Examples
    --------
    >>> import tempfile
    >>> base = Path(tempfile.mkdtemp())
    >>> with RunFolder(base / "run") as rf:
    ...     _ = (rf.build / "results.json").write_text("{}")
    ...     rf.commit()
    >>> sorted(p.name for p in base.iterdir()), [p.name for p in (base / "run").iterdir()]
    (['.run.rmstudy-lock', 'run'], ['results.json'])
    """

    def __init__(self, out: str | Path):
        self.out = Path(out)
        self.parent = self.out.parent if str(self.out.parent) else Path(".")
        self.name = self.out.resolve().name
        self.lock_path = self.parent / f".{self.name}{_TAG}lock"
        self.root: Path | None = None          # PARENT/.OUT.rmstudy-build-XXXXXXXX
        self._lock_fd: int | None = None
        self.committed = False

    # ------------------------------------------------------------------ opening
    def __enter__(self) -> "RunFolder":
        try:
            self.open()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def open(self) -> None:
        _check_out(self.out)
        try:
            self.parent.mkdir(parents=True, exist_ok=True)
            self._lock()
            self._sweep()
            self.root = Path(tempfile.mkdtemp(prefix=f".{self.name}{_TAG}build-", dir=self.parent))
            self.build.mkdir()
            self.scratch.mkdir()
        except OSError as e:
            raise output_error(e, self.out, "preparing") from None

    @property
    def build(self) -> Path:
        """The folder that becomes ``--out``."""
        return self.root / "run"

    @property
    def scratch(self) -> Path:
        """Kernel connection files and other scratch files of this run (deleted with the build folder)."""
        return self.root / "scratch"

    def _lock(self) -> None:
        import fcntl

        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RunLocked(f"another rmstudy run is writing {_shown(self.out)}{_lock_holder(self.lock_path)}; wait "
                            "for it to finish, or give another --out") from None
        self._lock_fd = fd
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}".encode())

    def _siblings(self, kind: str) -> list[Path]:
        return sorted(self.parent.glob(f".{self.name}{_TAG}{kind}-*"))

    def _sweep(self) -> None:
        """What an earlier run into OUT left when it was killed: put a run left aside back, delete build folders
        and stop their kernels. Runs under the lock, so no other run is using them."""
        old = self._siblings("old")
        if old and not self.out.exists():
            os.rename(old[-1], self.out)               # killed between the two renames of the fallback swap
            old = old[:-1]
        for p in [*self._siblings("build"), *old]:
            stop_kernels_of(p / "scratch")
            shutil.rmtree(p, ignore_errors=True)

    # ------------------------------------------------------------------ closing
    @property
    def failed(self) -> Path:
        """Where an unfinished run is kept for inspection when a notebook fails: ``PARENT/OUT.failed``."""
        return self.parent / f"{self.name}.failed"

    def _remove_failed(self) -> None:
        """Delete ``OUT.failed`` when it holds only what rmstudy writes, its files' temporary ``.tmp`` copies
        included (it never deletes a folder of the user's)."""
        f = self.failed
        if f.is_dir() and not f.is_symlink() and all(p.name in RUN_FILES or p.name.endswith(".tmp")
                                                      for p in f.iterdir()):
            shutil.rmtree(f, ignore_errors=True)

    def keep_failed(self) -> Path:
        """Move the unfinished run to :attr:`failed` (replacing an earlier one) and return that path."""
        shutil.rmtree(self.scratch, ignore_errors=True)
        self._remove_failed()
        os.rename(self.build, self.failed)
        return self.failed

    def commit(self) -> None:
        """Put the built run in place of ``out`` (the previous run, if any, is deleted afterwards) and delete the
        ``OUT.failed`` of an earlier failed run."""
        try:
            shutil.rmtree(self.scratch, ignore_errors=True)    # nothing of the scratch goes into OUT
            fsync_tree(self.build)                             # the new run's bytes on the disk before the swap
            if not self.out.exists():
                os.rename(self.build, self.out)
            elif not _exchange(self.build, self.out):
                aside = self.root.with_name(self.root.name.replace(f"{_TAG}build-", f"{_TAG}old-"))
                os.rename(self.out, aside)
                os.rename(self.build, self.out)
            fsync_dir(self.parent)                             # and the swap itself
        except OSError as e:
            raise output_error(e, self.out, "moving the new run into") from None
        self.committed = True
        self._remove_failed()

    def close(self) -> None:
        """Delete the build folder (after a commit it holds the previous run) and release the lock."""
        with _signals_held():
            if self.root is not None:
                stop_kernels_of(self.scratch)
                shutil.rmtree(self.root, ignore_errors=True)
                aside = self.root.with_name(self.root.name.replace(f"{_TAG}build-", f"{_TAG}old-"))
                shutil.rmtree(aside, ignore_errors=True)
                self.root = None
            if self._lock_fd is not None:
                os.close(self._lock_fd)               # releases the flock
                self._lock_fd = None


def fsync_tree(root: Path) -> None:
    """Flush every file under ``root`` to the disk, then every folder (deepest first, ``root`` last), so that
    each file's bytes and each name are on the disk. A file that cannot be opened for reading is skipped."""
    folders = []
    for here, _dirs, files in os.walk(root):
        folders.append(here)
        for name in files:
            try:
                fd = os.open(os.path.join(here, name), os.O_RDONLY)
            except OSError:
                continue
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    for here in reversed(folders):
        fsync_dir(here)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE). False when the system cannot."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


class _signals_held:
    """Hold Ctrl-C and SIGTERM back while a clean-up runs (main thread only), then deliver them."""

    def __enter__(self):
        self.caught, self.old = [], {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.old[sig] = signal.signal(sig, lambda s, f: self.caught.append(s))
        return self

    def __exit__(self, *exc):
        for sig, handler in self.old.items():
            signal.signal(sig, handler)
        if self.caught and exc[0] is None:
            os.kill(os.getpid(), self.caught[0])


def stop_kernels_of(scratch: Path) -> None:
    """Stop kernels still running from a connection file in ``scratch`` (a run killed before it could stop them;
    ipykernel also exits by itself within a second or so once its parent is gone)."""
    files = {str(p.resolve()) for p in Path(scratch).glob("kernel-*.json")} if Path(scratch).is_dir() else set()
    if not files:
        return
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(os.fsdecode(a) in files for a in args):
            try:
                os.kill(int(proc.name), signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def snapshot_inputs(cohort_dir: Path, build: Path, tries: int = 3) -> Path:
    """Copy the cohort's input files into ``build/inputs/<cohort name>/`` and return that folder.

    A file replaced or rewritten while the set is copied (its size, modification time or inode differ after the
    copy) makes the whole set be copied again, so the snapshot is one state of the folder; a folder that keeps
    changing is refused. A missing cohort folder is returned as it is, for validate to report.

    Parameters
    ----------
    cohort_dir : Path
    build : Path
        The run's build folder.
    tries : int
        How many times a changing set is copied before it is refused (:class:`~rmstudy.errors.CohortError`).

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile
    >>> base = Path(tempfile.mkdtemp())
    >>> (base / "cohort").mkdir()
    >>> _ = (base / "cohort" / "study.yaml").write_text("x"), (base / "cohort" / "notes.txt").write_text("y")
    >>> d = snapshot_inputs(base / "cohort", base / "build")
    >>> d.relative_to(base).as_posix(), [p.name for p in d.iterdir()]          # the cohort's files only
    ('build/inputs/cohort', ['study.yaml'])
    """
    cohort_dir = Path(cohort_dir)
    if not cohort_dir.is_dir():
        return cohort_dir
    dest = build / "inputs" / cohort_dir.resolve().name
    dest.mkdir(parents=True, exist_ok=True)

    def stamp(p: Path):
        try:
            st = p.stat()
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_size, st.st_mtime_ns

    for _ in range(tries):
        before = {n: stamp(cohort_dir / n) for n in INPUTS}
        for n, s in before.items():
            if s is None:
                (dest / n).unlink(missing_ok=True)
                continue
            try:
                with open(cohort_dir / n, "rb"):
                    pass
            except FileNotFoundError:
                break                                   # replaced between stat and open: copy the set again
            except OSError as e:
                raise CohortError(Problem(n, f"cannot be read ({e.strerror or e})",
                                          "check that the file is readable for you")) from None
            try:
                shutil.copyfile(cohort_dir / n, dest / n)   # any other error here is one of writing the run
            except FileNotFoundError as e:
                if e.filename != str(cohort_dir / n):
                    raise
                break
        else:
            if {n: stamp(cohort_dir / n) for n in INPUTS} == before:
                return dest
    raise CohortError(Problem(cohort_dir.name, f"the cohort's files changed {tries} times while rmstudy copied them",
                              "run again when nothing is writing to the cohort folder"))
