"""The HTML shell every report shares: escaping, small building blocks, and one inline
stylesheet with print rules, so a page opens offline and prints cleanly to PDF."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

CSS = """
:root { --ink:#0f172a; --muted:#64748b; --line:#e2e8f0; --panel:#f8fafc; --accent:#0f766e;
        --red:#dc2626; --amber:#d97706; --green:#15803d; --blue:#2563eb; }
* { box-sizing: border-box; }
body { margin:0; font: 14px/1.5 "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; color:var(--ink);
       background:#eef2f6; }
main { max-width: 1080px; margin: 0 auto; padding: 28px 32px 48px; background:#fff; min-height:100vh; }
header.top { border-bottom: 3px solid var(--accent); padding-bottom: 14px; margin-bottom: 18px; }
header.top .brand { font-size: 12px; letter-spacing: .12em; text-transform: uppercase; color: var(--accent);
                    font-weight: 700; }
h1 { font-size: 24px; margin: 4px 0 6px; }
h2 { font-size: 17px; margin: 30px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 14px; margin: 16px 0 6px; }
.sub { color: var(--muted); font-size: 13px; }
.cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 10px; margin: 14px 0; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.card .v { font-size: 22px; font-weight: 700; }
.card .l { font-size: 12px; color: var(--muted); }
.card .h { font-size: 11px; color: var(--muted); }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; margin: 6px 0 10px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--panel); font-weight: 600; color: #334155; }
td:first-child { white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.badge { display: inline-block; padding: 1px 7px; border-radius: 10px; font-size: 11px; font-weight: 600;
         margin: 0 3px 2px 0; background: #e2e8f0; color: #334155; white-space: nowrap; }
.b-red { background: #fee2e2; color: #991b1b; } .b-amber { background: #fef3c7; color: #92400e; }
.b-green { background: #dcfce7; color: #166534; } .b-blue { background: #dbeafe; color: #1e40af; }
.b-grey { background: #f1f5f9; color: #475569; }
.yes { color: var(--green); font-weight: 700; } .no { color: var(--red); font-weight: 700; }
.chart { margin: 6px 0 4px; }
.small { font-size: 11.5px; color: #475569; }
.note { font-size: 12px; color: var(--muted); margin: 2px 0 8px; }
.turn { border: 1px solid var(--line); border-radius: 8px; margin: 10px 0; overflow: hidden; }
.turn .pt { background: var(--panel); padding: 7px 12px; font-size: 13px; color: #334155; }
.turn .ln { padding: 8px 12px; border-top: 1px solid var(--line); }
.turn .who { font-size: 11px; font-weight: 700; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); }
.turn .fb { font-size: 12.5px; color: #1e293b; background: #f0fdfa; border-left: 3px solid var(--accent);
            padding: 5px 10px; margin-top: 6px; }
.turn .meta { font-size: 11.5px; color: var(--muted); margin-top: 4px; }
.missed { border-left: 4px solid var(--red); padding: 6px 12px; margin: 8px 0; background: #fff7f7; }
.missed .better { border-left: 4px solid var(--green); background: #f0fdf4; padding: 4px 10px; margin-top: 4px; }
.grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 18px; }
.toc { font-size: 12.5px; color: var(--muted); }
.toc a { color: var(--accent); text-decoration: none; margin-right: 10px; }
footer { margin-top: 36px; font-size: 11px; color: var(--muted); border-top: 1px solid var(--line); padding-top: 8px; }
svg { height: auto; display: block; }
@media print {
  @page { size: A4; margin: 14mm 12mm; }
  body { background: #fff; font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  .toc, .no-print { display: none; }
  h2 { break-after: avoid; }
  .card, .turn, .missed, table, .chart, svg { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""


def esc(value: object) -> str:
    return escape("" if value is None else str(value))


def num(value: float | int | None, digits: int = 2, suffix: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return f"{value}{suffix}"
    return f"{value:.{digits}f}{suffix}"


def pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def badge(text: str, tone: str = "grey", title: str | None = None) -> str:
    t = f' title="{esc(title)}"' if title else ""
    return f'<span class="badge b-{tone}"{t}>{esc(text)}</span>'


def card(label: str, value: str, hint: str = "") -> str:
    h = f'<div class="h">{esc(hint)}</div>' if hint else ""
    return f'<div class="card"><div class="v">{esc(value)}</div><div class="l">{esc(label)}</div>{h}</div>'


def cards(items: Iterable[str]) -> str:
    return f'<div class="cards">{"".join(items)}</div>'


def table(headers: list[str], rows: Iterable[list[str]], numeric: set[int] | frozenset[int] = frozenset()) -> str:
    """Cells are HTML already (callers escape); `numeric` column indexes are right-aligned."""
    cls = lambda i: ' class="num"' if i in numeric else ""
    head = "".join(f"<th{cls(i)}>{esc(h)}</th>" for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f"<td{cls(i)}>{c}</td>" for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{esc(anchor)}"><h2>{esc(title)}</h2>{body}</section>'


def chart(svg: str, note: str = "") -> str:
    n = f'<p class="note">{esc(note)}</p>' if note else ""
    return f'<div class="chart">{svg}</div>{n}'


def page(title: str, subtitle: str, body: str, toc: list[tuple[str, str]] | None = None, footer: str = "") -> str:
    nav = ""
    if toc:
        nav = '<nav class="toc">' + "".join(f'<a href="#{esc(a)}">{esc(t)}</a>' for a, t in toc) + "</nav>"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body><main>"
        f'<header class="top"><div class="brand">Bedside evaluation</div><h1>{esc(title)}</h1>'
        f'<div class="sub">{esc(subtitle)}</div></header>{nav}{body}'
        f"<footer>{esc(footer)}</footer></main></body></html>\n"
    )
