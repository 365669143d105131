"""`handover notices` (the printable handover notices) and `handover webfont`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("notices")
@click.option("--day", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--batch", default=None, help="Only this batch (as in the appointments import).")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None)
@with_appcontext
def notices_command(day, batch: str | None, out: Path | None) -> None:
    """Handover notices as a PDF: one A4 page per unit invited that day, with its signed QR code."""
    from server.engine import DomainError
    from server.i18n import translate
    from server.services import notices
    from server.web import project_id

    out = out or Path(f"notices-{day:%Y-%m-%d}{'-' + batch if batch else ''}.pdf")
    with current_app.test_request_context():
        pid = project_id()
        s = current_app.extensions["handover_db"].scoped()
        try:
            data, pages = notices.notices_pdf(
                s,
                project_id=pid,
                day=day.date(),
                batch=batch,
                secret=current_app.config["SECRET_KEY"],
            )
        except DomainError as err:
            raise click.ClickException(translate(err.message, "zh_CN", err.params)) from None
    out.write_bytes(data)
    click.echo(f"交房通知书 {pages} 份 / {pages} notices → {out}")


@click.command("webfont")
def webfont_command() -> None:
    """Rebuild the committed web font subset (needs `brotli`, in the test extra)."""
    from server import webfont

    chars, size = webfont.build_static()
    click.echo(f"{webfont.STATIC_FONT}: {chars} characters, {size / 1024:.0f} KB")
