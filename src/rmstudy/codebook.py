"""The codebook: instruments, their items, response ranges and reverse keys.

Nothing else in rmstudy knows an item name: every scale-level computation is
driven by a :class:`Codebook` read from the cohort's ``codebook.yaml``.
"""

from __future__ import annotations

__all__ = ["Scale", "Codebook", "load_codebook"]

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import CohortError, Problem


@dataclass(frozen=True)
class Scale:
    """One instrument (or outcome scale) of the codebook."""

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

    @property
    def n_items(self) -> int:
        return len(self.items)


@dataclass(frozen=True)
class Codebook:
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


def parse_codebook(raw: dict, file: str = "codebook.yaml") -> Codebook:
    """Build a :class:`Codebook` from the parsed YAML mapping, checking it."""
    if not isinstance(raw, dict) or not isinstance(raw.get("scales"), dict) or not raw["scales"]:
        raise _fail(file, "no 'scales' mapping found",
                    "give a top-level 'scales:' mapping of scale name -> {items, min, max, ...}")
    scales: dict[str, Scale] = {}
    seen: dict[str, str] = {}
    for name, spec in raw["scales"].items():
        where = f"scales.{name}"
        if not isinstance(spec, dict):
            raise _fail(file, f"{where} is not a mapping", "give items, min and max for the scale")
        for key in ("items", "min", "max"):
            if key not in spec:
                raise _fail(file, f"{where} lacks '{key}'", f"add '{key}:' to scale '{name}'")
        items = tuple(str(i) for i in spec["items"])
        if len(items) < 1:
            raise _fail(file, f"{where}.items is empty", "list at least one item code")
        lo, hi = float(spec["min"]), float(spec["max"])
        if not lo < hi:
            raise _fail(file, f"{where}: min ({lo:g}) is not below max ({hi:g})", "correct the response range")
        reverse = tuple(str(i) for i in spec.get("reverse", []) or [])
        for r in reverse:
            if r not in items:
                raise _fail(file, f"{where}.reverse names '{r}', which is not one of its items",
                            "list only the scale's own items under 'reverse'")
        for i in items:
            if i in seen:
                raise _fail(file, f"item '{i}' appears in both '{seen[i]}' and '{name}'",
                            "give every item code to exactly one scale")
            seen[i] = name
        share = float(spec.get("min_answered", raw.get("min_answered", 0.8)))
        if not 0 < share <= 1:
            raise _fail(file, f"{where}.min_answered is {share}", "use a share in (0, 1], e.g. 0.8")
        subscales = {str(k): tuple(v) for k, v in (spec.get("subscales") or {}).items()}
        for sub, sub_items in subscales.items():
            bad = [i for i in sub_items if i not in items]
            if bad:
                raise _fail(file, f"{where}.subscales.{sub} names items not in the scale: {bad}",
                            "list only the scale's own items in its subscales")
        scales[str(name)] = Scale(
            name=str(name), items=items, min=lo, max=hi, reverse=reverse, min_answered=share,
            label=str(spec.get("label", name)), citation=str(spec.get("citation", "")),
            anchors=dict(spec.get("anchors") or {}), item_text=dict(spec.get("item_text") or {}),
            subscales=subscales,
        )
    return Codebook(scales=scales)


def load_codebook(path: str | Path) -> Codebook:
    path = Path(path)
    with open(path, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    return parse_codebook(raw, file=path.name)
