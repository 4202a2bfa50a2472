"""Pooling: meta-analysis of many runs, of published effects, or of a living registry (``rmstudy pool``).

``sources`` reads run folders (results.json), an effects CSV or a registry CSV into study effects on a common
scale; ``compare`` groups them per hypothesis and refuses, with the reason, the studies whose plans break
comparability; ``core`` pools each group (``rmstudy.stats.meta``) into ``pooled.json``; ``outputs`` draws the
forest plots and writes the HR-safe summary and the academic table; ``registry`` appends a run's effect rows to a
registry CSV (``rmstudy run --register``); ``command`` holds the CLI handlers.

Layer: the report layer. May import ``rmstudy.results``, ``rmstudy.stats``, ``rmstudy.contract``,
``rmstudy.errors`` and ``rmstudy.report`` (figures, privacy, tables); never ``rmstudy.run``.
"""

__all__ = ["PoolError", "pool_sources", "pool_effects", "write_outputs", "register_run", "read_registry",
           "read_effects_csv", "read_run"]

import importlib

_WHERE = {"PoolError": "sources", "read_run": "sources", "read_effects_csv": "sources", "read_registry": "registry",
          "register_run": "registry", "pool_effects": "core", "pool_sources": "core", "write_outputs": "outputs"}


def __getattr__(name):
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module 'rmstudy.pool' has no attribute {name!r}")
