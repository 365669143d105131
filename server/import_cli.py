"""`handover import FILE [--dry-run] [--kind units]`: the admin page's import, from a shell."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from server.engine import DomainError
from server.i18n import translate


def report_lines(report, locale: str = "zh_CN") -> list[str]:
    from server.services.imports import KINDS

    lines = []
    for r in report.results:
        kind = KINDS.get(r.kind)
        if kind is None:  # a ZIP's floor plans
            name = translate("Floor plans", locale)
        else:
            name = kind.zh if locale != "en" else kind.en
        lines.append(
            translate(
                "%(kind)s (sheet %(sheet)s): %(created)s new, %(updated)s changed, "
                "%(unchanged)s unchanged",
                locale,
                {
                    "kind": name,
                    "sheet": r.sheet,
                    "created": r.created,
                    "updated": r.updated,
                    "unchanged": r.unchanged,
                },
            )
        )
    for e in report.errors:
        where = (
            translate(
                "sheet %(sheet)s, row %(row)s, column %(column)s",
                locale,
                {"sheet": e.sheet, "row": e.row, "column": e.column or "-"},
            )
            if e.row
            else translate("file %(name)s", locale, {"name": e.sheet})
        )
        lines.append(f"  ✗ {where}: {translate(e.message, locale, e.params or None)}")
    return lines


@click.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check and show what would change; change nothing.")
@click.option("--kind", default=None, help="units, owners, appointments, fees, keys, issues, ...")
@click.option("--lang", default="zh_CN", help="zh_CN (default) or en")
@with_appcontext
def import_command(path: Path, dry_run: bool, kind: str | None, lang: str) -> None:
    """Import units, owners, appointments, fees, keys, known issues, responses or staff."""
    from sqlalchemy import select

    from server.models import Project
    from server.services.actor import SYSTEM
    from server.services.imports import run_import

    db = current_app.extensions["handover_db"]
    with db.session() as s:
        stmt = select(Project.id).order_by(Project.id).limit(1)
        if current_app.config.get("PROJECT"):
            stmt = stmt.where(Project.code == current_app.config["PROJECT"])
        pid = s.scalar(stmt)
        if pid is None:
            raise click.ClickException(translate("No project is set up yet.", lang))
        try:
            report = run_import(
                s,
                project_id=pid,
                filename=path.name,
                data=path.read_bytes(),
                actor=SYSTEM,
                dry_run=dry_run,
                kind=kind,
                instance_path=current_app.instance_path,
            )
        except DomainError as err:
            raise click.ClickException(translate(err.message, lang, err.params)) from None
    for line in report_lines(report, lang):
        click.echo(line)
    if report.errors:
        raise click.ClickException(
            translate("%(n)s errors: nothing was imported.", lang, {"n": len(report.errors)})
        )
    click.echo(
        translate("Dry run: nothing was changed.", lang)
        if dry_run
        else translate("Imported.", lang)
    )


@click.command("new-project")
@click.argument("code")
@click.argument("name")
@click.option("--empty", is_flag=True, help="No standard plan (steps, documents, fee/key types).")
@with_appcontext
def new_project_command(code: str, name: str, empty: bool) -> None:
    """Create the project on an empty instance (the settings page can do it too)."""
    from server.services import plan_config
    from server.services.actor import SYSTEM

    db = current_app.extensions["handover_db"]
    with db.session() as s:
        try:
            plan_config.create_project(
                s, code=code, name=name, actor=SYSTEM, standard_plan=not empty
            )
        except DomainError as err:
            raise click.ClickException(translate(err.message, "zh_CN", err.params)) from None
    click.echo(f"项目已创建 / project created: {code} {name}")
