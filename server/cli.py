"""`handover ...`: init-db, demo, run, create-admin (and the fake printer for tests/demo)."""

from __future__ import annotations

import gc
import sys
from datetime import date
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from server.app import ROOT, create_app


def _db():
    return current_app.extensions["handover_db"]


def upgrade_database(url: str) -> None:
    """Apply Alembic migrations to `url` (what `handover init-db` does)."""
    import logging

    logging.getLogger("alembic").setLevel(logging.WARNING)  # progress chatter, not news
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(cfg, "head")


@click.group(cls=FlaskGroup, create_app=create_app, add_default_commands=False)
def main() -> None:
    """Handover Day: runs the floor of a real-estate handover day (集中交付)."""


@main.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    upgrade_database(current_app.config["DATABASE_URL"])
    click.echo(f"数据库已就绪 / database ready: {_safe_url(current_app.config['DATABASE_URL'])}")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@main.command("create-admin")
@click.option("--username", prompt=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", "display_name", default=None)
@with_appcontext
def create_admin(username: str, password: str, display_name: str | None) -> None:
    """Create an admin account."""
    from server import auth
    from server.engine import DomainError
    from server.i18n import translate

    with _db().session() as s:
        try:
            auth.create_staff(
                s, username=username, password=password, role="admin", display_name=display_name
            )
            s.commit()
        except DomainError as err:
            raise click.ClickException(translate(err.message, "zh_CN", err.params)) from None
    click.echo(f"管理员已创建 / admin created: {username}")


@main.command("demo")
@click.option(
    "--day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="First handover day (default: today).",
)
@click.option("--run/--no-run", default=True, help="Start the server after seeding.")
@click.option("--host", default=None)
@click.option("--port", type=int, default=None)
@click.option(
    "--printer-port",
    type=int,
    default=9100,
    show_default=True,
    help="Port of the demo's fake receipt printer.",
)
@with_appcontext
def demo(day, run: bool, host: str | None, port: int | None, printer_port: int) -> None:
    """Set up the demo venue (Chinese demo project on SQLite) and start it."""
    from sqlalchemy import select

    from server import auth, clock
    from server.demo import build_demo, demo_logins
    from server.demo_inspect import add_inspection_printers, seed_floor_plans
    from server.models import Project

    url = current_app.config["DATABASE_URL"]
    upgrade_database(url)
    start_day: date = day.date() if day else clock.today()
    with _db().session() as s:
        existing = s.scalar(select(Project).limit(1))
        if existing is None:
            info = build_demo(s, start_day=start_day, password_hasher=auth.hash_password)
            click.echo(f"演示项目已创建 / demo project created: {info.counts}")
            pairing = info.pairing_codes
            add_demo_printers(s, info.project_id, printer_port)
            seed_floor_plans(s, info.project_id, current_app.instance_path)
            add_inspection_printers(s, info.project_id, printer_port)
        else:
            click.echo(f"演示项目已存在 / demo project already there: {existing.name}")
            pairing = {}
    host = host or current_app.config["HOST"]
    port = port or int(current_app.config["PORT"])
    _print_urls(host, port, demo_logins(), pairing)
    if run:
        start_demo_printer(printer_port)
        serve(current_app._get_current_object(), host, port)


def add_demo_printers(s, project_id: int, port: int) -> None:
    """Each demo kiosk prints to the fake printer (80 mm, Chinese native mode); the key counters
    to the same one as 58 mm raster, so both modes show up in the admin's print queue."""
    from sqlalchemy import select

    from server.models import Counter, Device, Printer

    for device in s.scalars(
        select(Device).where(Device.project_id == project_id, Device.kind == "kiosk")
    ):
        s.add(
            Printer(
                project_id=project_id,
                name=f"{device.name}打印机",
                connection="network",
                host="127.0.0.1",
                port=port,
                paper_width_mm=80,
                mode="native",
                device_id=device.id,
            )
        )
    for counter in s.scalars(
        select(Counter).where(
            Counter.project_id == project_id, Counter.code.in_(("W11", "W12", "HELP"))
        )
    ):
        s.add(
            Printer(
                project_id=project_id,
                name=f"{counter.name_zh}打印机",
                connection="network",
                host="127.0.0.1",
                port=port,
                paper_width_mm=58,
                mode="raster",
                counter_id=counter.id,
            )
        )
    s.commit()


def start_demo_printer(port: int) -> None:
    from server.printing.fake_printer import FakePrinter

    save_dir = Path(current_app.instance_path) / "printed"
    save_dir.mkdir(parents=True, exist_ok=True)
    try:
        FakePrinter(port=port, save_dir=save_dir).start()
    except OSError as exc:
        click.echo(f"演示打印机未启动 / demo printer not started (port {port}: {exc})")
        return
    click.echo(f"  演示打印机 fake printer 127.0.0.1:{port} → {save_dir}")


def _print_urls(host: str, port: int, logins, pairing: dict[str, str]) -> None:
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    click.echo("")
    click.echo("交付日演示场馆 / Handover Day demo venue")
    click.echo(f"  管理后台 admin     {base}/admin/")
    click.echo(f"  签到机   kiosk     {base}/kiosk/")
    click.echo(f"  窗口     counter   {base}/counter/")
    click.echo(f"  大屏     display   {base}/display/")
    click.echo(f"  验房平板 inspect   {base}/inspect/")
    click.echo(f"  现场总览 floor     {base}/admin/floor")
    click.echo(f"  日报表   reports   {base}/admin/reports/daily")
    click.echo("  演示账号 demo logins (user / password / role):")
    for username, password, role, _name in logins:
        click.echo(f"    {username:<12} {password:<18} {role}")
    for name, code in pairing.items():
        click.echo(f"  设备配对 pair {name}: {base}/pair/{code}")
    click.echo("  (staff may open the kiosk and display pages too, after logging in;")
    click.echo("   open a kiosk's pairing link to make that browser the kiosk: its tickets print)")
    click.echo("")


@main.command("run")
@click.option(
    "--host", default=None, help="Default: HANDOVER_HOST or 127.0.0.1 (0.0.0.0 for the LAN)."
)
@click.option("--port", type=int, default=None)
@with_appcontext
def run(host: str | None, port: int | None) -> None:
    """Run the server (gunicorn with threads on Linux; Werkzeug elsewhere)."""
    host = host or current_app.config["HOST"]
    port = port or int(current_app.config["PORT"])
    serve(current_app._get_current_object(), host, port)


def serve(app, host: str, port: int) -> None:
    threads = int(app.config.get("THREADS", 200))
    workers = serving_processes(app.config)
    if sys.platform.startswith("linux"):
        from server.wsgi_server import run_gunicorn

        run_gunicorn(
            app,
            host,
            port,
            threads,
            after_fork=_start_serving_process,
            before_exit=_stop_serving_process,
            workers=workers,
        )
    else:  # gunicorn does not run on Windows
        from server.realtime import socketio

        _start_serving_process(app)
        socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=True)


def serving_processes(config) -> int:
    """WORKERS, checked: several need a Redis message queue (a change made in one process
    must reach the screens connected to the others) and gunicorn (Linux)."""
    workers = int(config.get("WORKERS", 1))
    if workers < 1:
        raise click.ClickException("WORKERS 至少为 1 / WORKERS must be at least 1")
    if workers == 1:
        return 1
    queue = str(config.get("SOCKETIO_MESSAGE_QUEUE") or "")
    if not queue.startswith(("redis://", "rediss://")):
        raise click.ClickException(
            "多个服务进程需要 Redis 消息队列：请设置 HANDOVER_SOCKETIO_MESSAGE_QUEUE=redis://… "
            "/ several WORKERS need HANDOVER_SOCKETIO_MESSAGE_QUEUE=redis://…"
        )
    if not sys.platform.startswith("linux"):
        raise click.ClickException(
            "多个服务进程仅支持 Linux / several WORKERS run on Linux only (gunicorn)"
        )
    return workers


def _start_serving_process(app) -> None:
    from server import realtime
    from server.printing import worker as print_worker

    app.extensions["handover_db"].engine.dispose(close=False)  # no connection crosses a fork
    realtime.after_fork()
    # Only a serving process sends print jobs; CLI commands that build an app do not.
    print_worker.init_app(app)
    _quiet_gc()
    _short_turns()


def _stop_serving_process(app) -> None:
    from server.printing import worker as print_worker

    # The print process finishes the receipt it is sending (a kill would leave it "unsure").
    sender = app.extensions.get(print_worker.EXTENSION)
    if sender is not None:
        sender.stop()


def _quiet_gc() -> None:
    """A full garbage collection scans every long-lived object and stops every thread while
    it does: with the app, its models and 500 connected phones that was 130-230 ms, several
    times a minute (measured in bench_load's peak hour), the worst pause a counter or a board
    saw. What the process built to start never becomes garbage: freeze it out of the scans."""
    gc.collect()
    gc.freeze()


def _short_turns() -> None:
    """A thread that wants the interpreter waits until the running one has had its turn: 5 ms
    by default, and a request meets that wait at every query and send. With busy threads
    beside it (a socket flooding, the boards' sends) a 10 ms staff request took 200 ms and
    more; 1 ms turns keep it near its own cost."""
    sys.setswitchinterval(0.001)


def _register_reports() -> None:
    from server.reports.cli import report_group

    main.add_command(report_group)


_register_reports()


def _register_optional() -> None:
    try:
        from server.printing.cli import fake_printer_command
    except ImportError:
        return
    main.add_command(fake_printer_command)


def _register_kiosk() -> None:
    from kiosk.cli import notices_command, webfont_command

    main.add_command(notices_command)
    main.add_command(webfont_command)


_register_optional()

from server.import_cli import import_command, new_project_command  # noqa: E402  (admin stream)

main.add_command(import_command)
main.add_command(new_project_command)
_register_kiosk()
