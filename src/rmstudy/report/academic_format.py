"""Number formats (APA), escaping and the numbered document of the academic report (rmstudy.report.academic)."""

from __future__ import annotations

__all__ = ["SMD_FLAG", "MINUS", "ARM_NAMES", "ARMS", "esc", "is_missing", "fmt_num", "fmt_p", "fmt_p_eq", "fmt_r",
           "fmt_df", "fmt_bf", "fmt_count", "fmt_ci", "pct", "AcademicDoc", "outline"]

import io
import math

import pandas as pd

SMD_FLAG = 0.1          # |SMD| above this is flagged (Austin 2009; Stuart 2010)
MINUS = "\u2212"
ARM_NAMES = {"program": "Programme", "control": "Comparison"}
ARMS = ("program", "control")

# --------------------------------------------------------------------------------------------- formatting
def esc(text) -> str:
    """User text (plan, codebook, reasons) made safe for HTML, by the reports' one helper (rmstudy.report.escape).

    Parameters
    ----------
    text : any value; None gives ''.

    Returns
    -------
    str

    Examples
    --------
    >>> esc("Mentoring <pilot> & Co")
    'Mentoring &lt;pilot&gt; &amp; Co'
    """
    from rmstudy.report import escape

    return escape.html(text)


def is_missing(x) -> bool:
    """Whether ``x`` is absent: None or a float NaN (the reports' one test).

    Parameters
    ----------
    x : any value.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_missing(None), is_missing(float("nan")), is_missing(0)
    (True, True, False)
    """
    return x is None or (isinstance(x, float) and math.isnan(x))


def _minus(s: str) -> str:
    return s.replace("-", MINUS) if s.startswith("-") else s


def fmt_num(x, digits: int = 2, sign: bool = False) -> str:
    """An estimate: fixed decimals, a true minus sign, '–' when absent.

    Parameters
    ----------
    x : float or None. digits : decimals. sign : show '+' on positive values.

    Returns
    -------
    str

    Examples
    --------
    >>> fmt_num(-0.456), fmt_num(0.004, sign=True), fmt_num(0.3, sign=True), fmt_num(None)
    ('−0.46', '0.00', '+0.30', '–')
    """
    if is_missing(x):
        return "–"
    s = f"{x:+.{digits}f}" if sign else f"{x:.{digits}f}"
    if float(s.replace("+", "")) == 0:
        s = s.lstrip("+-")
    return _minus(s)


def fmt_p(p) -> str:
    """APA p: '< .001', '.013', '> .999' (no leading zero, never 0.000).

    Parameters
    ----------
    p : float or None.

    Returns
    -------
    str

    Examples
    --------
    >>> fmt_p(0.0004), fmt_p(0.0132), fmt_p(0.9999), fmt_p(None)
    ('< .001', '.013', '> .999', '–')
    """
    if is_missing(p):
        return "–"
    if p < 0.001:
        return "< .001"
    if p > 0.999:
        return "> .999"
    return f"{p:.3f}"[1:]


def fmt_p_eq(p) -> str:
    """'p < .001' or 'p = .013' for running text.

    Parameters
    ----------
    p : float or None.

    Returns
    -------
    str
        HTML (the p in italics).

    Examples
    --------
    >>> fmt_p_eq(0.0132), fmt_p_eq(0.0001), fmt_p_eq(0.99999)
    ('<i>p</i> = .013', '<i>p</i> &lt; .001', '<i>p</i> &gt; .999')
    """
    s = fmt_p(p)
    return f"<i>p</i> {esc(s)}" if s[0] in "<>" else f"<i>p</i> = {s}"


def fmt_r(x, digits: int = 2) -> str:
    """A value bounded by 1 (r, α, ω, ICC): no leading zero.

    Parameters
    ----------
    x : float or None. digits : decimals.

    Returns
    -------
    str

    Examples
    --------
    >>> fmt_r(0.834), fmt_r(-0.2), fmt_r(1.0), fmt_r(None)
    ('.83', '−.20', '1.00', '–')
    """
    if is_missing(x):
        return "–"
    s = f"{x:.{digits}f}"
    if s.startswith("-0"):
        return MINUS + s[2:]
    return s[1:] if s.startswith("0") else s


def fmt_df(df) -> str:
    """Degrees of freedom with one decimal (Satterthwaite's are not whole numbers); '–' when absent.

    Parameters
    ----------
    df : float or None.

    Returns
    -------
    str

    Examples
    --------
    >>> fmt_df(57.26), fmt_df(None)
    ('57.3', '–')
    """
    return "–" if is_missing(df) else f"{df:.1f}"


def fmt_bf(bf, log10=None) -> str:
    """A Bayes factor: '> 100' beyond 100, '< 0.01' below 0.01, else two decimals. ``log10`` (results.json's
    log10 of it, always a number) is used when given: a BF10 too large for a float is null in results.json but
    still reads '> 100'.

    Parameters
    ----------
    bf : float or None. log10 : its log10, preferred when given.

    Returns
    -------
    str

    Examples
    --------
    >>> fmt_bf(3.456), fmt_bf(None, log10=400.0), fmt_bf(0.001), fmt_bf(None)
    ('3.46', '> 100', '< 0.01', '–')
    """
    if not is_missing(log10):
        bf = 10.0 ** min(max(float(log10), -300.0), 300.0)
    if is_missing(bf):
        return "–"
    if bf > 100:
        return "> 100"
    if bf < 0.01:
        return "< 0.01"
    return f"{bf:.2f}"


def fmt_count(n) -> str:
    """A count as an integer; an absent count as 'not recorded'.

    Parameters
    ----------
    n : number or None.

    Returns
    -------
    str

    Examples
    --------
    >>> fmt_count(12.0), fmt_count(None)
    ('12', 'not recorded')
    """
    if is_missing(n):
        return "not recorded"
    return f"{int(round(float(n))):d}"


def fmt_ci(lo, hi, digits: int = 2, r: bool = False) -> str:
    """A confidence interval '[lo, hi]', as estimates (:func:`fmt_num`) or, with ``r``, as bounded values (:func:`fmt_r`).

    Parameters
    ----------
    lo, hi : the bounds (float or None). digits : decimals. r : format as values bounded by 1 (no leading zero).

    Returns
    -------
    str

    Examples
    --------
    >>> fmt_ci(-0.12, 0.5), fmt_ci(0.71, 0.88, r=True)
    ('[−0.12, 0.50]', '[.71, .88]')
    """
    f = (lambda v: fmt_r(v, digits)) if r else (lambda v: fmt_num(v, digits))
    return f"[{f(lo)}, {f(hi)}]"


def pct(x) -> str:
    """A proportion as a whole percentage; '–' when absent.

    Parameters
    ----------
    x : float or None (0 to 1).

    Returns
    -------
    str

    Examples
    --------
    >>> pct(0.456), pct(None)
    ('46%', '–')
    """
    return "–" if is_missing(x) else f"{100 * x:.0f}%"


# --------------------------------------------------------------------------------------------- document
class AcademicDoc:
    """Numbers sections, tables and figures in order and renders them as HTML fragments.

    ``sections`` is the outline (see :func:`outline`): a list of ``(key, title)``; :meth:`heading` gives
    a section its number, :meth:`table` and :meth:`figure` number captions in the order they are called.

    Parameters
    ----------
    sections : list of (key, title)
        The outline; keys starting with ``appendix`` are headed 'Appendix'.

    Examples
    --------
    >>> doc = AcademicDoc([("plan", "The plan"), ("flow", "Participant flow"), ("appendix_items", "Items")])
    >>> doc.heading("flow")
    '<h2 id="sec-flow">2. Participant flow</h2>'
    >>> doc.number("appendix_items")
    'Appendix'
    >>> doc.table(pd.DataFrame({"Arm": ["Programme"], "n": ["12"]}), "Counts")[:82]
    '<figure class="apa-table" id="table-1"><figcaption><b>Table 1</b><br><i>Counts</i>'
    """

    def __init__(self, sections):
        self.sections = list(sections)
        self.n_tables = 0
        self.n_figures = 0

    def number(self, key: str) -> str:
        keys = [k for k, _ in self.sections]
        i = keys.index(key)
        return "Appendix" if key.startswith("appendix") else str(i + 1 - sum(k.startswith("appendix") for k in keys[:i]))

    def heading(self, key: str, level: int = 2, intro: str = "") -> str:
        title = dict(self.sections)[key]
        num = self.number(key)
        text = f"{num}: {esc(title)}" if num == "Appendix" else f"{num}. {esc(title)}"
        return f'<h{level} id="sec-{key}">{text}</h{level}>' + (f"<p>{intro}</p>" if intro else "")

    def subheading(self, key: str, sub: int, title: str, anchor: str) -> str:
        return f'<h3 id="{esc(anchor)}">{self.number(key)}.{sub} {esc(title)}</h3>'

    def toc(self, subsections: dict | None = None) -> str:
        """Table of contents; ``subsections`` maps a section key to ``[(anchor, title), ...]``."""
        items = []
        for key, title in self.sections:
            num = self.number(key)
            label = f"{num}: {esc(title)}" if num == "Appendix" else f"{num}. {esc(title)}"
            sub = ""
            if subsections and subsections.get(key):
                sub = "<ol>" + "".join(f'<li><a href="#{esc(a)}">{num}.{j} {esc(t)}</a></li>'
                                       for j, (a, t) in enumerate(subsections[key], 1)) + "</ol>"
            items.append(f'<li><a href="#sec-{key}">{label}</a>{sub}</li>')
        return '<nav class="toc"><h2 class="toc-title">Contents</h2><ol>' + "".join(items) + "</ol></nav>"

    def table(self, df: pd.DataFrame, title: str, note: str = "", escape: bool = True, wrap=()) -> str:
        """An APA table: 'Table N' and its title above, a note below; cells as given (strings), no index.

        Cells never wrap, except those of the text columns named in ``wrap`` (labels, notes, reasons)."""
        self.n_tables += 1
        cls = [' class="wrap"' if c in wrap else "" for c in df.columns]
        head = "".join(f"<th{k}>{esc(c)}</th>" for c, k in zip(df.columns, cls))
        body = []
        for row in df.itertuples(index=False):
            cells = []
            for v, k in zip(row, cls):
                v = "–" if is_missing(v) else v
                cells.append(f"<td{k}>{esc(v) if escape else v}</td>")
            body.append("<tr>" + "".join(cells) + "</tr>")
        note_html = f'<p class="table-note"><i>Note.</i> {note}</p>' if note else ""
        return (f'<figure class="apa-table" id="table-{self.n_tables}"><figcaption><b>Table {self.n_tables}</b><br>'
                f'<i>{esc(title)}</i></figcaption><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}'
                f"</tbody></table>{note_html}</figure>")

    def figure(self, fig, caption: str, close: bool = True) -> str:
        """A figure as inline SVG (vector), numbered, with its caption below."""
        import matplotlib.pyplot as plt

        self.n_figures += 1
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
        if close:
            plt.close(fig)
        svg = buf.getvalue()
        svg = svg[svg.index("<svg"):]                 # no XML prolog or DOCTYPE inside HTML
        a, b = svg.find("<metadata>"), svg.find("</metadata>")
        if a >= 0 and b > a:                          # matplotlib's RDF block names web namespaces: not needed
            svg = svg[:a] + svg[b + len("</metadata>"):]
        return (f'<figure class="apa-figure" id="figure-{self.n_figures}">{svg}<figcaption><b>Figure '
                f'{self.n_figures}.</b> {caption}</figcaption></figure>')

    def image(self, path, caption: str) -> str:
        """A figure saved by an analysis notebook (PNG), embedded, numbered and captioned."""
        import base64
        from pathlib import Path

        self.n_figures += 1
        data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
        return (f'<figure class="apa-figure" id="figure-{self.n_figures}"><img src="data:image/png;base64,{data}" '
                f'alt="Figure {self.n_figures}"><figcaption><b>Figure {self.n_figures}.</b> {caption}</figcaption>'
                "</figure>")


def outline(res: dict) -> list[tuple[str, str]]:
    """The sections present in this run, in report order (a section without its analysis is left out).

    Parameters
    ----------
    res : a results.json mapping.

    Returns
    -------
    list of (key, title)

    Examples
    --------
    >>> keys = [k for k, _ in outline({"hypotheses": [{"family": "primary"}], "retention": {"H4": {}}})]
    >>> keys[6:]
    ['descriptives', 'primary', 'retention', 'methods', 'reproducibility', 'references', 'appendix_items']
    """
    fam = {r["family"] for r in res["hypotheses"]}
    s = [("plan", "The preregistered plan"), ("design", "Design, programme and comparison group"),
         ("flow", "Participant flow"), ("baseline", "Baseline characteristics by arm"), ("attrition", "Attrition"),
         ("measurement", "Measurement"), ("descriptives", "Descriptive statistics")]
    if "primary" in fam:
        s.append(("primary", "Primary results"))
    if fam & {"secondary", "exploratory"}:
        s.append(("secondary", "Secondary and exploratory results"))
    if res.get("sensitivity"):
        s.append(("sensitivity", "Sensitivity analyses"))
    if any(res.get("moderation", {}).values()):
        s.append(("moderation", "Moderation and dose–response (exploratory)"))
    if res.get("retention"):
        s.append(("retention", "Retention"))
    if res.get("models"):
        s.append(("assumptions", "Assumption checks"))
    if res.get("power"):
        s.append(("power", "Power and sensitivity"))
    s += [("methods", "Statistical methods (for reuse)"), ("reproducibility", "Reproducibility"),
          ("references", "References"), ("appendix_items", "Item statistics")]
    return s


