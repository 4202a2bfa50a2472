"""A few long-lived Jupyter kernels shared by the notebooks of one run.

Each kernel imports pandas, scipy.stats, matplotlib and the cohort reader once, while the cohort is being
checked; between notebooks its user namespace is reset (``%reset -f``) and open figures are closed, so each
notebook still starts from an empty namespace, as it does when run by hand.

The kernels' connection files are written to a folder the caller owns (the run's scratch folder beside
``--out``), never to Jupyter's shared runtime folder, so a run that is killed leaves them where the next run into
the same ``--out`` deletes them. The pool keeps its own record of which kernels have run a notebook; it sets no
attribute on jupyter_client's objects.
"""

from __future__ import annotations

__all__ = ["KernelPool", "KERNEL_ARGS", "RESET_SOURCE", "THREAD_VARS", "kernel_env"]

import os
import queue
import threading
from pathlib import Path

KERNEL_ARGS = ["--IPKernelApp.log_level=ERROR"]   # no TCP-encryption chatter on stderr
#: the first cell of a notebook run on a kernel that has already run one
RESET_SOURCE = ("get_ipython().run_line_magic('reset', '-f')\n"
                "import sys as _s\n"
                "_s.modules.get('matplotlib.pyplot') and _s.modules['matplotlib.pyplot'].close('all')\n"
                "del _s\n"
                "from rmstudy.run.shared_cohort import release_memory as _r\n"   # the last notebook's tables
                "_r()\n"
                "del _r\n")
_PRELOAD = ("--IPKernelApp.exec_lines=['import importlib as _i; [_i.import_module(m) for m in (\"pandas\", "
            "\"scipy.stats\", \"matplotlib.pyplot\", \"rmstudy.run.shared_cohort\")]; del _i']")   # no names left


#: the thread pools of numpy's BLAS and OpenMP code, set per kernel by :func:`kernel_env`
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def kernel_env(n: int, cpus: int | None = None) -> dict:
    """The environment of each of ``n`` kernels that run at once: the machine's CPUs shared out, so that their
    BLAS thread pools do not oversubscribe it (on 2 cores, two kernels with 2 BLAS threads each spent about as
    much CPU time spinning as computing). When the user has set any of them, all are left as the user set them
    (OpenBLAS and MKL read their own variable before OMP_NUM_THREADS, so setting only the others would override
    the user's choice).

    Parameters
    ----------
    n : int
        Kernels running at once.
    cpus : int, optional
        CPUs this process may use (default: its affinity mask).

    Returns
    -------
    dict
        ``os.environ``, with each of :data:`THREAD_VARS` set to ``max(1, cpus // n)`` unless one is set already.
    """
    if cpus is None:
        affinity = getattr(os, "sched_getaffinity", None)         # Linux; elsewhere the machine's count
        cpus = len(affinity(0)) if affinity else (os.cpu_count() or 1)
    env = dict(os.environ)
    if not any(var in env for var in THREAD_VARS):
        env.update({var: str(max(1, cpus // max(n, 1))) for var in THREAD_VARS})
    return env


class KernelPool:
    """``n`` kernels started at once, with connection files in ``connection_dir``.

    :meth:`acquire` hands out a free kernel and says whether it has run a notebook before (so the notebook must
    first reset its namespace); :meth:`release` gives it back; :meth:`shutdown` stops them all (idempotent; a
    kernel that died needs no stopping).

    Parameters
    ----------
    n : int
        How many kernels to start (each preloads pandas, scipy.stats, matplotlib and the cohort reader).
    connection_dir : Path
        The folder for their connection files (created; the run's scratch folder).
    """

    def __init__(self, n: int, connection_dir: Path):
        KernelManager = _manager_class(self)

        self._free: queue.Queue = queue.Queue()
        self._all: list = []
        self._used: set[int] = set()        # indexes into _all of the kernels that have run a notebook
        self._clients: list[list] = []      # per kernel, the clients made for it (papermill leaves them running)
        self.closed = False                 # after shutdown no kernel is handed out (a queued notebook fails fast)
        connection_dir = Path(connection_dir)
        connection_dir.mkdir(parents=True, exist_ok=True)
        try:
            for i in range(n):
                self._clients.append([])
                km = KernelManager(kernel_name="python3", connection_file=str(connection_dir / f"kernel-{i}.json"),
                                   client_factory=_recorded_client(self._clients[i]))
                self._all.append(km)
                km.start_kernel(extra_arguments=KERNEL_ARGS + [_PRELOAD], env=kernel_env(n))
                self._free.put(km)
        except BaseException:
            self.shutdown()
            raise

    def __len__(self) -> int:
        return len(self._all)

    def acquire(self):
        """A free kernel (waiting for one), and whether it has run a notebook already."""
        km = self._free.get()
        if self.closed:
            self._free.put(km)
            raise RuntimeError("the run is stopping: its kernels have been shut down")
        i = next(j for j, k in enumerate(self._all) if k is km)
        used = i in self._used
        self._used.add(i)
        return km, used

    def release(self, km) -> None:
        """Give ``km`` back, after stopping the clients a notebook opened on it: nbclient stops a client only on
        a kernel it started itself, so each notebook left one running, with its threads, sockets and zmq
        context (about 8 descriptors a notebook, for as long as the process lives)."""
        self._stop_clients(next(j for j, k in enumerate(self._all) if k is km))
        self._free.put(km)

    def _stop_clients(self, i: int) -> None:
        while self._clients[i]:
            kc = self._clients[i].pop()
            try:
                kc.stop_channels()           # joins its threads and destroys the zmq context it made
            except Exception:  # noqa: BLE001 - a client of a dead kernel has nothing left to stop
                pass

    def shutdown(self) -> None:
        """Stop every kernel (in parallel) and remove its connection file."""
        self.closed = True
        # the clients are not stopped here: a notebook may still be using its client in another thread, and zmq
        # sockets closed under a thread that is using them abort the process (SIGABRT); release() stops them
        # once papermill has returned
        def stop(km):
            try:
                if km.has_kernel:
                    km.shutdown_kernel(now=True)
            except Exception:  # a kernel that already died needs no shutdown
                pass
            try:
                km.cleanup_resources()
            except Exception:
                pass

        threads = [threading.Thread(target=stop, args=(km,), daemon=True) for km in self._all]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)


def _manager_class(pool: "KernelPool"):
    """jupyter_client's KernelManager, except that it starts no kernel once ``pool`` is shut down.

    nbclient starts a new kernel on a manager whose kernel is not running, with none of the pool's arguments. A
    notebook that took its kernel just before a failing stage shut the pool down then started a stray kernel,
    whose warnings ran into the one-line error (a full disk met while validation.json was written beside stage
    1); now it fails at once, and the stage's own error is the one reported."""
    from jupyter_client import KernelManager

    class PoolKernelManager(KernelManager):
        def start_kernel(self, **kw):
            if pool.closed:
                raise RuntimeError("the run is stopping: its kernels have been shut down")
            return super().start_kernel(**kw)

    return PoolKernelManager


def _recorded_client(made: list):
    """jupyter_client's blocking client class, each instance appended to ``made`` (so the pool can stop it)."""
    from jupyter_client.blocking import BlockingKernelClient

    class RecordedClient(BlockingKernelClient):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            made.append(self)

    return RecordedClient
