"""The codebook: instruments, their items, response ranges and reverse keys.

Nothing else in rmstudy knows an item name: every scale-level computation is
driven by a :class:`Codebook` read from the cohort's ``codebook.yaml``.
"""

from __future__ import annotations

__all__ = ["Scale", "Codebook", "load_codebook"]

from dataclasses import dataclass, field
from pathlib import Path


from rmstudy.contract import yamlio
from rmstudy.errors import CohortError, Problem


@dataclass(frozen=True)
class Scale:
    """One instrument (or outcome scale) of the codebook.

    Attributes
    ----------
    name : str
        The scale's key in codebook.yaml.
    items : tuple of str
        Its item codes (responses.csv columns).
    min, max : float
        The answer range.
    reverse : tuple of str
        The reverse-keyed items.
    min_answered : float
        Share of items a person must answer for a scale score.
    label, citation, higher_is : str
        Display texts.
    anchors, item_text, subscales : dict
        Answer labels, item wording and subscale -> items.
    favourable : str or dict
        Which answers HR counts as favourable.

    Examples
    --------
    >>> s = Scale("wellbeing", ("wb1", "wb2"), 1, 5, reverse=("wb2",))
    >>> s.n_items, s.min_answered
    (2, 0.8)
    """

    name: str
    items: tuple[str, ...]
    min: float
    max: float
    reverse: tuple[str, ...] = ()
    min_answered: float = 0.8
    label: str = ""
    citation: str = ""
    anchors: dict = field(default_factory=dict)
    item_text: dict = field(default_factory=dict)
    subscales: dict = field(default_factory=dict)
    higher_is: str = ""
    #: which end of the (reverse-keyed) answer scale HR counts as favourable: ``high``/``low`` (the top/bottom two
    #: answers) or a cut-off ``{"at_most": 13.0}`` / ``{"at_least": 40.0}``
    favourable: str | dict = "high"

    @property
    def n_items(self) -> int:
        return len(self.items)


@dataclass(frozen=True)
class Codebook:
    """The scales of a cohort's codebook.yaml, by name (:func:`load_codebook`).

    Attributes
    ----------
    scales : dict of str to Scale
        The scales, in codebook order.

    Examples
    --------
    >>> cb = Codebook({"wellbeing": Scale("wellbeing", ("wb1", "wb2"), 1, 5)})
    >>> cb.items, cb.scale_of("wb2").name, "wellbeing" in cb
    (['wb1', 'wb2'], 'wellbeing', True)
    """

    scales: dict[str, Scale]

    def __getitem__(self, name: str) -> Scale:
        return self.scales[name]

    def __contains__(self, name: str) -> bool:
        return name in self.scales

    @property
    def items(self) -> list[str]:
        """All item codes, in codebook order."""
        return [i for s in self.scales.values() for i in s.items]

    def scale_of(self, item: str) -> Scale:
        for s in self.scales.values():
            if item in s.items:
                return s
        raise KeyError(item)


def _fail(file: str, msg: str, fix: str, column: str | None = None) -> CohortError:
    return CohortError(Problem(file=file, message=msg, fix=fix, column=column))


_SCALE_KEYS = {"items", "min", "max", "reverse", "min_answered", "label", "citation", "anchors", "item_text",
               "subscales", "higher_is", "favourable"}


def _parse_scale(name, spec, raw: dict, seen: dict[str, str], bad) -> Scale | None:
    """One scale of codebook.yaml, checked (``bad(where, message, fix)`` records a problem); None when it cannot
    be built. ``seen`` maps each item code met so far to its scale (an item belongs to one scale)."""
    where = f"scales.{name}"
    if not isinstance(spec, dict):
        bad(where, f"{where} is not a mapping", "give items, min and max for the scale")
        return None
    for key in spec:
        if key not in _SCALE_KEYS:
            bad(f"{where}.{key}", f"unknown key '{key}' in scale '{name}'", f"use only {sorted(_SCALE_KEYS)}")
    for p in yamlio.text_problems(spec, ("label", "citation", "higher_is"), "", where, maps=("anchors", "item_text")):
        bad(p.column, p.message, p.fix)
    missing = [k for k in ("items", "min", "max") if k not in spec]
    for key in missing:
        bad(where, f"{where} lacks '{key}'", f"add '{key}:' to scale '{name}'")
    if missing:
        return None
    if not isinstance(spec["items"], list) or not spec["items"]:
        bad(f"{where}.items", f"{where}.items is not a non-empty list", "list the item codes, one per line starting with '- '")
        return None
    items = tuple(str(i) for i in spec["items"])
    try:
        lo, hi = float(spec["min"]), float(spec["max"])
        share = float(spec.get("min_answered", raw.get("min_answered", 0.8)))
    except (TypeError, ValueError):
        bad(where, f"{where}: min, max and min_answered must be numbers", "write them as plain numbers, e.g. min: 1")
        return None
    if not lo < hi:
        bad(where, f"{where}: min ({lo:g}) is not below max ({hi:g})", "correct the response range")
    if not 0 < share <= 1:
        bad(f"{where}.min_answered", f"{where}.min_answered is {share}", "use a share in (0, 1], e.g. 0.8")
    reverse = spec.get("reverse", []) or []
    if not isinstance(reverse, list):
        bad(f"{where}.reverse", f"{where}.reverse is not a list", "list reverse-keyed item codes")
        reverse = []
    reverse = tuple(str(i) for i in reverse)
    for r in reverse:
        if r not in items:
            bad(f"{where}.reverse", f"{where}.reverse names '{r}', which is not one of its items",
                "list only the scale's own items under 'reverse'")
    if len(set(items)) != len(items):
        bad(f"{where}.items", f"{where}.items lists an item twice", "list each item code once")
    for i in items:
        if i in seen and seen[i] != name:
            bad(f"{where}.items", f"item '{i}' appears in both '{seen[i]}' and '{name}'",
                "give every item code to exactly one scale")
        seen[i] = name
    favourable = spec.get("favourable", "high")
    if isinstance(favourable, dict):            # a cut-off: {at_most: 13} or {at_least: 40} (a total score's bands)
        cut = next(iter(favourable.values()), None) if len(favourable) == 1 else None
        low, high = (v if isinstance(v, (int, float)) else cut for v in (spec.get("min"), spec.get("max")))
        if set(favourable) - {"at_most", "at_least"} or not isinstance(cut, (int, float)) or isinstance(cut, bool) \
                or low is None or high is None or not low <= cut <= high:
            bad(f"{where}.favourable", f"{where}.favourable is {favourable!r}",
                "give one cut-off within the scale's range: {at_most: 13} or {at_least: 40}")
            favourable = "high"
        else:
            favourable = {str(k): float(v) for k, v in favourable.items()}
    elif favourable not in ("high", "low"):
        bad(f"{where}.favourable", f"{where}.favourable is {favourable!r}",
            "use 'high' (the top two answers are favourable), 'low' (the bottom two are), or a cut-off such as "
            "{at_most: 13}")
    for key in ("subscales", "anchors", "item_text"):
        if spec.get(key) is not None and not isinstance(spec[key], dict):
            bad(f"{where}.{key}", f"{where}.{key} is not a mapping", f"write {key} as 'name: value' lines")
            spec = {**spec, key: {}}
    subscales = {str(k): tuple(v if isinstance(v, list) else [v]) for k, v in (spec.get("subscales") or {}).items()}
    for sub, sub_items in subscales.items():
        stray = [i for i in sub_items if i not in items]
        if stray:
            bad(f"{where}.subscales.{sub}", f"{where}.subscales.{sub} names items not in the scale: {stray}",
                "list only the scale's own items in its subscales")
    return Scale(
        name=str(name), items=items, min=lo, max=hi, reverse=reverse, min_answered=share,
        label=str(spec.get("label", name)), citation=str(spec.get("citation", "")),
        anchors=dict(spec.get("anchors") or {}), item_text=dict(spec.get("item_text") or {}),
        subscales=subscales, higher_is=str(spec.get("higher_is", "")), favourable=favourable,
    )


def parse_codebook(raw: dict, file: str = "codebook.yaml") -> Codebook:
    """Build a :class:`Codebook` from the parsed YAML mapping, checking it.

    Every problem found is reported (one :class:`CohortError` listing all).
    Unknown keys are errors, so a typo such as ``reverse_items:`` cannot
    silently leave items unreversed.
    """
    if not isinstance(raw, dict) or not isinstance(raw.get("scales"), dict) or not raw["scales"]:
        raise _fail(file, "no 'scales' mapping found",
                    "give a top-level 'scales:' mapping of scale name -> {items, min, max, ...}")
    probs: list[Problem] = []

    def bad(where, msg, fix):
        probs.append(Problem(file=file, message=msg, fix=fix, column=where))

    for key in raw:
        if key not in ("scales", "min_answered"):
            bad(str(key), f"unknown top-level key '{key}'", "use 'scales' (and optionally a default 'min_answered')")
    scales: dict[str, Scale] = {}
    seen: dict[str, str] = {}
    for name, spec in raw["scales"].items():
        scale = _parse_scale(name, spec, raw, seen, bad)
        if scale is not None:
            scales[str(name)] = scale
    if probs:
        raise CohortError(probs)
    return Codebook(scales=scales)


def load_codebook(path: str | Path) -> Codebook:
    """Read and check a codebook.yaml (:func:`parse_codebook`); a YAML error names the file, not its path.

    Parameters
    ----------
    path : str or Path
        The codebook.yaml file.

    Returns
    -------
    Codebook
        The checked codebook.

    Examples
    --------
    >>> cb = load_codebook("data/demo/codebook.yaml")
    >>> sorted(cb.scales)[:2], cb["bias_older"].min_answered
    (['bias_older', 'bias_younger'], 0.8)
    """
    path = Path(path)
    raw = yamlio.load_path(path)      # a key written twice, or bad syntax: the message names the file, not its path
    return parse_codebook(raw, file=path.name)
