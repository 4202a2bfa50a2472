"""YAML reading for the project's own files (codebook.yaml, study.yaml, ingest mappings, planning files).

PyYAML's ``safe_load`` lets a key written twice in one mapping win silently (the last one counts), so a
leftover ``alpha: 0.2`` below ``alpha: 0.05`` would change the plan without a word. :func:`load` refuses
it with a :class:`DuplicateKeyError` (a ``yaml.YAMLError``, so every caller's YAML handling reports it)
naming the key and both lines. Error messages never carry an absolute path: :func:`message` gives the
text of any YAML error with the file's path replaced by its name.

A hostile or broken file is refused before it can cost time or memory, with an :class:`UnsafeYamlError` (a
:class:`~rmstudy.errors.CohortError` whose one problem names the file and the fix):

* more than :data:`MAX_BYTES` (1 MB) — a plan, codebook or mapping is a few kilobytes; the size is read from the
  file system, and at most that many characters are ever read;
* anchors (``&name``), aliases (``*name``) and merge keys (``<<: *name``): an alias repeats a value, and nested
  aliases ("billion laughs") make a file of a few hundred bytes expand to gigabytes;
* more than :data:`MAX_DEPTH` (50) levels of nesting (deeper nesting would end in a ``RecursionError``), or more
  than :data:`MAX_NODES` (200,000) values;
* bytes that are not UTF-8 text;
* an empty file, or one of comments only (unless the caller allows it): a plan or codebook is never empty, and
  reading one as "nothing" would give a page of "required" messages instead of one line.
"""

from __future__ import annotations

__all__ = ["load", "load_path", "message", "text_problems", "DuplicateKeyError", "UnsafeYamlError", "MAX_BYTES", "MAX_DEPTH",
           "MAX_NODES"]

import io
import os
from pathlib import Path

import yaml

from rmstudy.errors import CohortError, Problem, RmstudyError

#: largest YAML file read, in bytes (1 MB)
MAX_BYTES = 1_000_000
#: deepest nesting of mappings and lists
MAX_DEPTH = 50
#: most values (scalars, mappings and lists) in one file
MAX_NODES = 200_000


class DuplicateKeyError(RmstudyError, yaml.YAMLError):
    """A key that appears twice in one mapping.

    Examples
    --------
    >>> try:
    ...     load("a: 1\\na: 2\\n")
    ... except DuplicateKeyError as e:
    ...     print(e)
    key 'a' appears twice in the same mapping (lines 1 and 2); only one can count — delete one
    """


class UnsafeYamlError(CohortError):
    """A YAML file refused by this module's limits: too large, too deep, too many values, anchors or aliases, not
    UTF-8, or empty.

    Examples
    --------
    >>> try:
    ...     load("a: &x 1\\nb: *x\\n", file="x.yaml")
    ... except UnsafeYamlError as e:
    ...     print(e.problems[0].file, "anchor" in e.problems[0].message)
    x.yaml True
    """


def _refuse(file: str, message: str, fix: str) -> UnsafeYamlError:
    return UnsafeYamlError(Problem(file, message, fix))


#: libyaml's parser where PyYAML was built with it (10 times faster than the pure-Python one); the constructor, and so
#: the check of keys written twice, is PyYAML's own either way
_BASE = yaml.CSafeLoader if getattr(yaml, "__with_libyaml__", False) else yaml.SafeLoader
_STARTS = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_ENDS = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


class _NamedText(io.StringIO):
    """YAML text that carries the file's name, so that syntax errors name the file (not ``<unicode string>``)."""

    def __init__(self, text: str, name: str):
        super().__init__(text)
        self.name = name


def _check_events(text: str, file: str) -> None:
    """Refuse anchors, aliases, deep nesting and too many values, from the parser's events alone: nothing is built,
    so an alias bomb or 100,000 levels of brackets cost no memory and no recursion."""
    try:
        _walk_events(text, file)
    except yaml.YAMLError as e:
        if "maximum nesting depth" not in str(e):      # libyaml's own limit (1,000 open brackets) met first
            raise
        raise _refuse(file, f"the YAML nests more than {MAX_DEPTH} levels deep", "check the indentation and the "
                      "brackets: a study plan, codebook or mapping nests a few levels") from None


def _walk_events(text: str, file: str) -> None:
    depth = nodes = 0
    for event in yaml.parse(_NamedText(text, file), Loader=_BASE):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            kind, mark = ("alias", "*") if isinstance(event, yaml.AliasEvent) else ("anchor", "&")
            raise _refuse(file, f"line {event.start_mark.line + 1} holds the YAML {kind} '{mark}{event.anchor}'; "
                          "rmstudy's YAML files may not use anchors, aliases or merge keys (<<), which let a few lines "
                          "expand to gigabytes", "write the value out in full wherever it is used")
        if isinstance(event, (yaml.ScalarEvent, *_STARTS)):
            nodes += 1
            if nodes > MAX_NODES:
                raise _refuse(file, f"the YAML holds more than {MAX_NODES:,} values (line {event.start_mark.line + 1})",
                              "check that this is the right file: a study plan, codebook or mapping holds a few "
                              "hundred")
        if isinstance(event, _STARTS):
            depth += 1
            if depth > MAX_DEPTH:
                raise _refuse(file, f"the YAML nests more than {MAX_DEPTH} levels deep (line "
                              f"{event.start_mark.line + 1})", "check the indentation and the brackets: a study "
                              "plan, codebook or mapping nests a few levels")
        elif isinstance(event, _ENDS):
            depth -= 1


class _Loader(_BASE):  # type: ignore[valid-type,misc]  # CSafeLoader when libyaml is there, else SafeLoader
    """The safe loader that refuses a key written twice in one mapping."""

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


def _file_name(stream, file: str | None) -> str:
    if file is not None:
        return file
    name = getattr(stream, "name", None)
    return Path(name).name if isinstance(name, str) and name else "YAML"


def _bounded_text(stream, file: str) -> str:
    """The text of ``stream`` (an open file, text or bytes), refused when larger than MAX_BYTES or not UTF-8."""
    too_big = ("check that this is the right file: a study plan, codebook or mapping is a few kilobytes; rmstudy "
               f"reads YAML files of at most {MAX_BYTES:,} bytes (1 MB)")
    if isinstance(stream, (str, bytes)):
        text = stream
    else:
        try:
            size = os.fstat(stream.fileno()).st_size
        except (AttributeError, OSError, io.UnsupportedOperation):
            size = None
        if size is not None and size > MAX_BYTES:
            raise _refuse(file, f"the file is {size:,} bytes, more than the {MAX_BYTES:,} a YAML file of rmstudy may "
                          "have", too_big)
        try:
            text = stream.read(MAX_BYTES + 1)
        except UnicodeDecodeError as e:
            raise _refuse(file, f"not UTF-8 text ({e.reason} at byte {e.start} of the part read)",
                          "save the file as UTF-8 text (a binary or a word-processor file cannot be read)") from None
    if len(text) > MAX_BYTES:
        raise _refuse(file, f"the file is more than {MAX_BYTES:,} bytes", too_big)
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise _refuse(file, f"not UTF-8 text ({e.reason} at byte {e.start})",
                          "save the file as UTF-8 text (a binary or a word-processor file cannot be read)") from None
    return text


def load(stream, file: str | None = None, allow_empty: bool = False):
    """``yaml.safe_load`` with the limits of this module, refusing a key written twice in one mapping.

    Parameters
    ----------
    stream : file object, str or bytes
        An open file (text or binary) or the YAML text.
    file : str, optional
        The name shown in problems (default: the name of the open file).
    allow_empty : bool
        Return None for an empty file (or one of comments only) instead of refusing it.

    Returns
    -------
    object
        The document (None for an empty one when ``allow_empty``).

    Raises
    ------
    UnsafeYamlError
        A file over 1 MB, anchors or aliases, more than 50 levels of nesting or 200,000 values, not UTF-8, or
        an empty file (unless ``allow_empty``).
    DuplicateKeyError
        A key written twice in one mapping.
    yaml.YAMLError
        Any other YAML syntax error.

    Examples
    --------
    >>> load("alpha: 0.05\\nwaves: [pre, post]\\n")
    {'alpha': 0.05, 'waves': ['pre', 'post']}
    >>> try:
    ...     load("a: &x [1, 2]\\nb: *x\\n", file="study.yaml")
    ... except UnsafeYamlError as e:
    ...     print(e.problems[0].file, "-", e.problems[0].message.split(";")[0])
    study.yaml - line 1 holds the YAML anchor '&x'
    """
    name = _file_name(stream, file)
    text = _bounded_text(stream, name)
    _check_events(text, name)
    loader = _Loader(_NamedText(text, name))
    try:
        data = loader.get_single_data()
    finally:
        loader.dispose()
    if data is None and not allow_empty:
        raise _refuse(name, "the file is empty (or holds only comments)",
                      "write its content: docs/cohort-format.md describes codebook.yaml and study.yaml")
    return data


def text_problems(spec: dict, keys, file: str, where: str, maps=()) -> list[Problem]:
    """Problems for text fields of a YAML mapping that hold a list or a mapping instead of one value.

    Parameters
    ----------
    spec : dict
        The mapping (e.g. one scale of codebook.yaml).
    keys : iterable of str
        Its text fields (``label``, ``citation``, ...): each must be one value (text; a number or a date is taken as
        written).
    file, where : str
        The file's name, and the key path of ``spec`` (``scales.bias_older``), for the problems.
    maps : iterable of str
        Fields that map names to texts (``anchors``, ``item_text``): each of their values must be one value.

    Returns
    -------
    list of Problem

    Examples
    --------
    >>> [p.column for p in text_problems({"label": ["a", "b"], "anchors": {1: "No", 2: {"x": 1}}},
    ...                                   ("label", "citation"), "codebook.yaml", "scales.s", maps=("anchors",))]
    ['scales.s.label', 'scales.s.anchors.2']
    """
    out = []

    def check(value, key_path: str) -> None:
        if isinstance(value, (list, dict)):
            kind = "a list" if isinstance(value, list) else "a mapping"
            out.append(Problem(file, f"{key_path} is {kind}, not a text", "write one text on the line (quote it if it "
                               "holds a colon or starts with a bracket)", column=key_path))

    for key in keys:
        if key in spec:
            check(spec[key], f"{where}.{key}")
    for key in maps:
        if isinstance(spec.get(key), dict):
            for name, value in spec[key].items():
                check(value, f"{where}.{key}.{name}")
    return out


def message(error: Exception, path: str | Path | None = None) -> str:
    """The text of a YAML error, with ``path`` (and any absolute form of it) shown as the file's name only.

    Parameters
    ----------
    error : Exception
        The YAML error.
    path : str or Path, optional
        The file read.

    Returns
    -------
    str

    Examples
    --------
    >>> import tempfile, yaml
    >>> p = Path(tempfile.mkdtemp()) / "study.yaml"
    >>> _ = p.write_text("waves: [pre\\n")
    >>> try:
    ...     yaml.safe_load(p.open())
    ... except yaml.YAMLError as e:
    ...     print(str(p.parent) in str(e), str(p.parent) in message(e, p), "study.yaml" in message(e, p))
    True False True
    """
    text = str(error)
    if path is not None:
        p = Path(path)
        for form in {str(p), str(p.resolve()), str(p.absolute())}:
            text = text.replace(form, p.name)
    return text


def load_path(path: str | Path):
    """The YAML document of the file at ``path`` (:func:`load`'s limits); a syntax error or a key written twice is
    raised with a message that names the file, not its folder.

    Parameters
    ----------
    path : str or Path
        The YAML file.

    Returns
    -------
    object
        The document.

    Examples
    --------
    >>> load_path("data/demo/study.yaml")["waves"]
    ['pre', 'post']
    """
    path = Path(path)
    with open(path, encoding="utf-8") as fh:
        try:
            return load(fh)
        except yaml.YAMLError as e:
            kind = DuplicateKeyError if isinstance(e, DuplicateKeyError) else yaml.YAMLError
            raise kind(message(e, path)) from None
