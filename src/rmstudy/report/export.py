"""Turning reports into files that render offline and fetch nothing.

- :func:`export_html`: an executed report notebook to self-contained HTML without code, prompts or the
  parameters cells, from nbconvert's ``lab`` template stripped of every script it loads from a CDN (require.js,
  MathJax, mermaid, widgets; template ``report/templates/nbconvert/offline``), with a Content-Security-Policy
  that forbids any fetch but embedded ``data:`` images and fonts, and without output areas as tab stops.
- :func:`export_pdf`: an HTML file to an A4 PDF with weasyprint through :class:`DataOnlyFetcher`, which serves
  embedded ``data:`` URIs and refuses everything else (``http(s)``, ``file`` attachments, relative paths): a
  link or image smuggled into a label can neither reach the network nor embed a local file in the PDF.
"""

from __future__ import annotations

__all__ = ["export_html", "export_pdf", "DataOnlyFetcher", "CSP", "PDF_CSS", "pdf_from_string"]

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent / "templates"

#: Nothing but the page itself: inline styles, and images and fonts embedded as data: URIs.
CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
       "base-uri 'none'; form-action 'none'")

#: Print rules for a notebook-made report (the HR report brings its own print stylesheet).
PDF_CSS = """
@page { size: A4; margin: 16mm 14mm; @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt; } }
body { font-size: 10pt; }
img { max-width: 100%; break-inside: avoid; }
h1, h2, h3 { break-after: avoid; }
table, .jp-OutputArea-output { break-inside: avoid; }
"""


def export_html(executed: Path, dest: Path, title: str) -> Path:
    """Export an executed report notebook to self-contained, offline HTML with no code, no prompts and no
    parameters / injected-parameters cell. ``title`` is user text (it holds the study name): it is escaped.

    Parameters
    ----------
    executed : Path
        The executed notebook.
    dest : Path
        The HTML file to write.
    title : str

    Returns
    -------
    Path
        ``dest``.
    """
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    nb = nbformat.read(executed, as_version=4)
    tags = TagRemovePreprocessor(remove_cell_tags={"parameters", "injected-parameters", "remove-cell"})
    exporter = HTMLExporter(template_name="offline", extra_template_basedirs=[str(TEMPLATES / "nbconvert")],
                            exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    exporter.register_preprocessor(tags, enabled=True)
    # the template escapes the title itself (escape_html_keep_quotes)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": str(title)}, "rmstudy_csp": CSP})
    body = _no_output_tab_stops(body)
    Path(dest).write_text(body, encoding="utf-8")
    return Path(dest)


_TABSTOP = re.compile(r'(<div\b[^>]*\bclass="[^"]*\b(?:jp-Cell-inputWrapper|jp-OutputArea-output)\b[^"]*"[^>]*?)'
                      r'\s+tabindex="0"')


def _no_output_tab_stops(html: str) -> str:
    """nbconvert makes every output area a tab stop (tabindex=0); in a report they are text, not widgets."""
    out = _TABSTOP.sub(r"\1", html)
    return re.sub(r'(<div\b[^>]*?)\s+tabindex="0"([^>]*\bclass="[^"]*\b(?:jp-Cell-inputWrapper|jp-OutputArea-output)\b)',
                  r"\1\2", out)


def _fetcher_base():
    from weasyprint.urls import URLFetcher

    return URLFetcher


class DataOnlyFetcher:
    """A weasyprint URL fetcher that serves ``data:`` URIs and refuses every other URL.

    Refused URLs are kept in ``refused`` (tests read it). Built lazily on weasyprint's ``URLFetcher`` so that
    importing this module does not import weasyprint.
    """

    def __new__(cls):
        base = _fetcher_base()

        class _Fetcher(base):
            def __init__(self):
                super().__init__(allowed_protocols=("data",), allow_redirects=False, timeout=1)
                self.refused: list[str] = []

            def fetch(self, url, headers=None):
                if not str(url).lower().startswith("data:"):
                    self.refused.append(str(url))
                    raise ValueError(f"rmstudy reports fetch nothing: {str(url)[:80]}")
                return super().fetch(url, headers)

        return _Fetcher()


def pdf_from_string(html: str, dest: Path, stylesheets=()) -> tuple[Path, list[str]]:
    """Render an HTML string to ``dest`` (PDF) with no base URL and the data-only fetcher.

    Returns the path and the URLs that were refused.

    Parameters
    ----------
    html : str
    dest : Path
    stylesheets : iterable
        weasyprint stylesheets.

    Returns
    -------
    (Path, list of str)
    """
    import logging

    import weasyprint

    fetcher = DataOnlyFetcher()
    log = logging.getLogger("weasyprint")
    level = log.level
    log.setLevel(logging.ERROR)          # each refused URL is a warning; the caller gets the list instead
    try:
        doc = weasyprint.HTML(string=html, base_url=None, url_fetcher=fetcher)
        css = [weasyprint.CSS(string=s, url_fetcher=fetcher) for s in stylesheets]
        doc.write_pdf(str(dest), stylesheets=css)
    finally:
        log.setLevel(level)
    return Path(dest), list(fetcher.refused)


def export_pdf(html: Path, dest: Path) -> Path:
    """Print a report's HTML file to an A4 PDF with weasyprint, fetching nothing but embedded ``data:`` URIs.

    The HR report's own print stylesheet (``@page`` rules in the page) wins over :data:`PDF_CSS`, which only
    supplies the A4 page and numbering for notebook-made HTML.

    Parameters
    ----------
    html : Path
        The report's HTML file.
    dest : Path
        The PDF to write.

    Returns
    -------
    Path
        ``dest``.
    """
    text = Path(html).read_text(encoding="utf-8")
    sheets = () if "data-rmstudy-print" in text else (PDF_CSS,)
    pdf_from_string(text, Path(dest), stylesheets=sheets)
    return Path(dest)
