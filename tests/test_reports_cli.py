"""`handover report ...` from the shell, on the small known day."""

from __future__ import annotations

import io

from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import func, select

from server.cli import main
from server.db import Database
from server.models import FollowUpCase
from tests.report_day import DAY, build_report_day


def test_report_commands_write_each_format(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    instance.mkdir()
    monkeypatch.setenv("HANDOVER_INSTANCE_PATH", str(instance))
    monkeypatch.delenv("HANDOVER_DATABASE_URL", raising=False)
    db = Database(f"sqlite:///{instance / 'handover.db'}")
    db.create_all()
    with db.session() as s:
        build_report_day(s)
    runner = CliRunner()
    for fmt in ("xlsx", "pdf", "html", "slip"):
        out = tmp_path / f"daily.{fmt}"
        result = runner.invoke(
            main, ["report", "daily", "--date", str(DAY), "--format", fmt, "--out", str(out)]
        )
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 1000
    wb = load_workbook(io.BytesIO((tmp_path / "daily.xlsx").read_bytes()))
    assert wb.worksheets[0]["B7"].value == 6  # appointed
    html = (tmp_path / "daily.html").read_text(encoding="utf-8")
    assert "<svg" in html and "每日交房日报表" in html and "<script" not in html
    assert (tmp_path / "daily.slip").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = tmp_path / "summary.xlsx"
    result = runner.invoke(
        main,
        [
            "report",
            "summary",
            "--from",
            str(DAY),
            "--to",
            str(DAY),
            "--format",
            "xlsx",
            "--out",
            str(summary),
        ],
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["report", "followup", "--date", str(DAY)])
    assert result.exit_code == 0 and "新建 5" in result.output, result.output
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(FollowUpCase)) == 5
    db.dispose()
