"""YAML reading for the project's own files (codebook.yaml, study.yaml, ingest mappings).

PyYAML's ``safe_load`` lets a key written twice in one mapping win silently (the last one counts), so a
leftover ``alpha: 0.2`` below ``alpha: 0.05`` would change the plan without a word. :func:`load` refuses
it with a :class:`DuplicateKeyError` (a ``yaml.YAMLError``, so every caller's YAML handling reports it)
naming the key and both lines. Error messages never carry an absolute path: :func:`message` gives the
text of any YAML error with the file's path replaced by its name.
"""

from __future__ import annotations

__all__ = ["load", "message", "DuplicateKeyError"]

from pathlib import Path

import yaml

from rmstudy.errors import RmstudyError


class DuplicateKeyError(RmstudyError, yaml.YAMLError):
    """A key that appears twice in one mapping."""


class _UniqueKeyLoader(yaml.SafeLoader):
    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.setdefault(key, key_node.start_mark.line + 1)
                except TypeError:          # an unhashable key: SafeLoader reports it itself
                    continue
                if first != key_node.start_mark.line + 1:
                    raise DuplicateKeyError(f"key '{key}' appears twice in the same mapping (lines {first} and "
                                            f"{key_node.start_mark.line + 1}); only one can count — delete one")
        return super().construct_mapping(node, deep=deep)


def load(stream):
    """``yaml.safe_load`` that refuses a key written twice in one mapping."""
    return yaml.load(stream, Loader=_UniqueKeyLoader)


def message(error: Exception, path: str | Path | None = None) -> str:
    """The text of a YAML error, with ``path`` (and any absolute form of it) shown as the file's name only."""
    text = str(error)
    if path is not None:
        p = Path(path)
        for form in {str(p), str(p.resolve()), str(p.absolute())}:
            text = text.replace(form, p.name)
    return text
