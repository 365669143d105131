"""Reports: queries -> a plain report model (dataclasses in `model.py`) -> renderers.

- `daily.py`     每日交房日报表 for one day (every figure defined in its docstring)
- `summary.py`   交房汇总统计表 over a date range or the whole project
- `facts.py`     what happened to each visit, from transitions and the current evidence rows
- `charts.py`    inline SVG charts for the admin page (no JS, no CDN)
- `render_pdf.py`, `render_xlsx.py`, `render_slip.py`   the other formats

Nothing here commits or changes a row: reports only read. Exports that must be logged (full
contacts) are recorded by `server/services/report_exports.py`.
"""
