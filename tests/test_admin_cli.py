"""`handover new-project` and `handover import FILE [--dry-run]` from a shell."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import create_engine, func, select

from server.cli import main
from server.models import Unit


def test_import_from_the_shell(tmp_path, monkeypatch):
    monkeypatch.setenv("HANDOVER_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.delenv("HANDOVER_DATABASE_URL", raising=False)
    run = CliRunner().invoke
    assert run(main, ["init-db"]).exit_code == 0
    assert run(main, ["new-project", "lake", "湖畔花园"]).exit_code == 0
    good = tmp_path / "units.csv"
    good.write_bytes("楼栋,单元,房号\n1,1,101\n1,1,102\n".encode("gbk"))
    dry = run(main, ["import", str(good), "--dry-run"])
    assert dry.exit_code == 0 and "新增 2" in dry.output and "未做任何修改" in dry.output
    engine = create_engine(f"sqlite:///{tmp_path / 'instance' / 'handover.db'}")
    units = select(func.count()).select_from(Unit.__table__)
    with engine.connect() as conn:
        assert conn.scalar(units) == 0
    assert run(main, ["import", str(good)]).exit_code == 0
    bad = tmp_path / "owners.csv"
    bad.write_text("楼栋,单元,房号,姓名,身份证号\n1,1,101,张伟,123\n", encoding="utf-8")
    result = run(main, ["import", str(bad)])
    assert result.exit_code != 0
    assert "第 2 行" in result.output and "身份证号" in result.output
    with engine.connect() as conn:
        assert conn.scalar(units) == 2
    engine.dispose()


def test_import_a_zip_with_floor_plans_from_the_shell(tmp_path, monkeypatch):
    from server.models import UnitType
    from tests.test_admin_imports import _plan_png, bundle

    monkeypatch.setenv("HANDOVER_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.delenv("HANDOVER_DATABASE_URL", raising=False)
    run = CliRunner().invoke
    assert run(main, ["init-db"]).exit_code == 0
    assert run(main, ["new-project", "lake", "湖畔花园"]).exit_code == 0
    csv = "楼栋,单元,房号,户型\n1,1,101,A2\n".encode()
    bad = tmp_path / "bad.zip"
    bad.write_bytes(bundle({"units.csv": csv, "户型图/Q7.png": _plan_png()}))
    result = run(main, ["import", str(bad)])
    assert result.exit_code != 0
    assert "文件 户型图/Q7.png" in result.output and "没有户型 Q7" in result.output
    good = tmp_path / "good.zip"
    good.write_bytes(bundle({"units.csv": csv, "户型图/A2.png": _plan_png()}))
    result = run(main, ["import", str(good)])
    assert result.exit_code == 0 and "户型图" in result.output, result.output
    engine = create_engine(f"sqlite:///{tmp_path / 'instance' / 'handover.db'}")
    with engine.connect() as conn:
        plan = conn.scalar(select(UnitType.__table__.c.floor_plan_file_id))
        assert plan is not None
    engine.dispose()
