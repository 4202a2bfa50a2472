"""Export the executed academic-report notebook to a self-contained, offline HTML page and an A4 PDF.

The notebook displays the report as HTML fragments (rmstudy.report.academic); this module joins those
fragments in order under one stylesheet of our own. Nothing is loaded from the network: no MathJax,
require.js or web fonts (nbconvert's templates link them from a CDN), figures are inline SVG or data
URIs. The PDF (weasyprint) gets bookmarks from the numbered headings (h1–h3).
"""

from __future__ import annotations

__all__ = ["export_academic", "collect_html", "ACADEMIC_CSS"]

import html
import json
from pathlib import Path

ACADEMIC_CSS = """
@page { size: A4; margin: 18mm 15mm 18mm 15mm;
  @top-right { content: "Confidential: research team and reviewers"; font-size: 7pt; color: #666; }
  @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt; } }
html { font-family: "DejaVu Serif", Georgia, "Times New Roman", serif; font-size: 10.5pt; line-height: 1.45;
  color: #111; }
body { max-width: 68em; margin: 2em auto; padding: 0 1.5em; }
h1 { font-size: 1.6em; margin: 0 0 .3em; }
h2 { font-size: 1.25em; margin: 1.6em 0 .5em; border-bottom: 1px solid #bbb; padding-bottom: .15em;
  break-after: avoid; }
h3 { font-size: 1.05em; margin: 1.2em 0 .4em; break-after: avoid; }
h1, h2, h3 { font-family: "DejaVu Sans", Arial, sans-serif; }
h2.toc-title { border: none; }
p { margin: .45em 0; text-align: left; }
code { font-family: "DejaVu Sans Mono", monospace; font-size: .86em; word-break: break-all; }
nav.toc ol { list-style: none; padding-left: 1.2em; margin: .2em 0; }
nav.toc > ol { padding-left: 0; }
nav.toc a { color: #113; text-decoration: none; }
figure { margin: 1.1em 0; }
figure.apa-table { break-inside: avoid; overflow-x: auto; }
figure.apa-table figcaption { margin-bottom: .35em; font-family: "DejaVu Sans", Arial, sans-serif; font-size: .92em; }
table { border-collapse: collapse; font-family: "DejaVu Sans", Arial, sans-serif; font-size: .8em;
  border-top: 1.5px solid #000; border-bottom: 1.5px solid #000; }
thead th { border-bottom: 1px solid #000; text-align: left; font-weight: 600; }
th, td { padding: .18em .6em; white-space: nowrap; vertical-align: top; text-align: left; }
td.wrap, th.wrap { white-space: normal; }
.table-note { font-size: .85em; margin-top: .3em; }
figure.apa-figure { break-inside: avoid; text-align: center; }
figure.apa-figure svg, figure.apa-figure img { max-width: 100%; height: auto; }
figure.apa-figure figcaption { text-align: left; font-size: .92em; margin-top: .3em; }
ol.references { padding-left: 0; list-style: none; }
ol.references li { padding-left: 2em; text-indent: -2em; margin-bottom: .35em; }
.meta { color: #333; font-size: .95em; }
.confidential { font-weight: bold; }
@media print { body { max-width: none; margin: 0; padding: 0; } table { font-size: 6.9pt; }
  th, td { padding: .12em .4em; } a { color: inherit; } }
"""


def collect_html(executed: Path) -> str:
    """The HTML fragments a report notebook displayed, in order (markdown outputs converted; stream output,
    the parameters and the code are left out).

    Parameters
    ----------
    executed : path of the executed notebook (.ipynb).

    Returns
    -------
    str
        The fragments joined by newlines.

    Examples
    --------
    >>> import tempfile
    >>> cells = [{"cell_type": "code", "metadata": {"tags": ["parameters"]}, "outputs": []},
    ...          {"cell_type": "code", "metadata": {}, "outputs": [{"data": {"text/html": ["<h1>", "Report</h1>"]}},
    ...                                                            {"name": "stdout", "text": "log"}]}]
    >>> nb = Path(tempfile.mkdtemp()) / "academic.ipynb"
    >>> _ = nb.write_text(json.dumps({"cells": cells}), encoding="utf-8")
    >>> collect_html(nb)
    '<h1>Report</h1>'
    """
    nb = json.loads(Path(executed).read_text(encoding="utf-8"))
    parts = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        tags = cell.get("metadata", {}).get("tags", [])
        if "parameters" in tags or "injected-parameters" in tags:
            continue
        for o in cell.get("outputs", []):
            data = o.get("data") or {}
            if "text/html" in data:
                v = data["text/html"]
                parts.append("".join(v) if isinstance(v, list) else v)
            elif "text/markdown" in data:
                from nbconvert.filters.markdown_mistune import markdown2html_mistune

                v = data["text/markdown"]
                parts.append(markdown2html_mistune("".join(v) if isinstance(v, list) else v))
            elif "image/svg+xml" in data:
                v = data["image/svg+xml"]
                parts.append("".join(v) if isinstance(v, list) else v)
            elif "image/png" in data:
                parts.append(f'<img alt="figure" src="data:image/png;base64,{data["image/png"]}">')
    return "\n".join(parts)


def export_academic(executed: Path, html_dest: Path, pdf_dest: Path | None = None, title: str = "Academic report"):
    """Write the academic report as one offline HTML file and, when ``pdf_dest`` is given, an A4 PDF with
    bookmarks. Returns the paths written.

    Parameters
    ----------
    executed : path of the executed notebook. html_dest : the HTML file to write.
    pdf_dest : the PDF to write (optional; needs weasyprint). title : the page's title.

    Returns
    -------
    list of pathlib.Path

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> cells = [{"cell_type": "code", "metadata": {}, "outputs": [{"data": {"text/html": "<h1>Report</h1>"}}]}]
    >>> _ = (d / "academic.ipynb").write_text(json.dumps({"cells": cells}), encoding="utf-8")
    >>> [p.name for p in export_academic(d / "academic.ipynb", d / "academic_report.html")]
    ['academic_report.html']
    >>> page = (d / "academic_report.html").read_text(encoding="utf-8")
    >>> "<h1>Report</h1>" in page, "https://" in page
    (True, False)
    """
    from rmstudy.report.export import CSP        # forbids every fetch but embedded data: images and fonts

    body = collect_html(executed)
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"{html.escape(CSP)}\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{html.escape(title)}</title>"
            f"<style>{ACADEMIC_CSS}</style></head><body>\n{body}\n</body></html>\n")
    Path(html_dest).write_text(page, encoding="utf-8")
    written = [Path(html_dest)]
    if pdf_dest is not None:
        from rmstudy.report.export import pdf_from_string

        pdf_from_string(page, Path(pdf_dest))         # fetches nothing but embedded data: URIs
        written.append(Path(pdf_dest))
    return written
