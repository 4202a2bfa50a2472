"""The one helper that makes user text safe to render in a report.

Every piece of text that comes from a cohort (study and hypothesis names, labels, questions, scale labels and
anchors, the comparison group, deviations, population values, folder names) is *data*, never markup. Both reports
pass it through this module exactly once, where it is rendered:

- :func:`html` for text placed into HTML (the HR report's Jinja2 template autoescapes through the same
  ``markupsafe.escape``; call :func:`html` where HTML is assembled in Python);
- :func:`markdown` for text placed into a Markdown cell of a report notebook (the academic report): HTML
  characters become entities, every Markdown punctuation mark is backslash-escaped (so no link, image, emphasis,
  heading, list, code span or ``$...$`` maths can form) and line breaks become spaces (so no block can start).

Figures are made safe separately: :func:`rmstudy.report.figures.set_style` turns matplotlib's mathtext off
(``text.parse_math``), so a ``$\\href{...}$`` in a label is drawn as the characters typed.
"""

from __future__ import annotations

__all__ = ["html", "markdown", "MARKDOWN_SPECIALS"]

import re

import markupsafe

#: ASCII punctuation that CommonMark allows to be backslash-escaped, less '&', '<' and '>' (written as entities
#: after) and ';', '"', "'" (plain text in Markdown). ':' is escaped so no bare URL becomes a link.
MARKDOWN_SPECIALS = "\\`*_{}[]()#+-.!|$~^%@,?:/="
_MD = re.compile("[" + re.escape(MARKDOWN_SPECIALS) + "]")
_BREAKS = re.compile(r"[\r\n\u2028\u2029\v\f]+")


def html(text) -> str:
    """``text`` as HTML text: ``& < > " '`` become entities. ``None`` becomes an empty string.

    Parameters
    ----------
    text : object or None

    Returns
    -------
    str

    Examples
    --------
    >>> html("<b>R&D</b>"), html(None)
    ('&lt;b&gt;R&amp;D&lt;/b&gt;', '')
    """
    if text is None:
        return ""
    return str(markupsafe.escape(str(text)))


def markdown(text) -> str:
    """``text`` as literal inline Markdown text (then rendered to HTML by nbconvert's Markdown renderer).

    The result renders to exactly the characters of ``text`` (line breaks shown as spaces): no tag, link, image,
    emphasis, code span, maths or block structure can come from it.

    Parameters
    ----------
    text : object or None

    Returns
    -------
    str

    Examples
    --------
    >>> print(markdown("**HR** [link](x)\\nnext"))
    \\*\\*HR\\*\\* \\[link\\]\\(x\\) next
    """
    if text is None:
        return ""
    s = _MD.sub(lambda m: "\\" + m.group(0), _BREAKS.sub(" ", str(text)))
    # then only what would open a tag or an entity: a quote made an entity first (&#39;) had its '#' escaped
    # afterwards and showed as "&#39;" in the report
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
