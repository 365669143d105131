"""`handover fake-printer`: a TCP/9100 printer that saves what it gets (demos, kiosk setup)."""

from __future__ import annotations

import time

import click

from .fake_printer import FakePrinter


@click.command("fake-printer")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=9100, show_default=True, type=int)
@click.option("--save-dir", type=click.Path(file_okay=False), help="Save each job as a .bin file.")
@click.option(
    "--png/--no-png", default=True, help="Also save raster jobs as PNG (with --save-dir)."
)
def fake_printer_command(host: str, port: int, save_dir: str | None, png: bool) -> None:
    """Pretend to be a network receipt printer (ESC/POS on TCP)."""
    fake = FakePrinter(host=host, port=port, save_dir=save_dir).start()
    click.echo(f"fake printer listening on {host}:{fake.port}; Ctrl+C to stop")
    seen = 0
    try:
        while True:
            jobs = fake.wait_for(seen + 1, timeout=1.0)
            for data in jobs[seen:]:
                seen += 1
                click.echo(f"job {seen}: {len(data)} bytes")
                if save_dir and png:
                    _save_png(data, save_dir, seen)
            time.sleep(0.05)
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


def _save_png(data: bytes, save_dir: str, n: int) -> None:
    from pathlib import Path

    from .decode import raster_page

    page = raster_page(data)
    if page is not None:
        page.save(Path(save_dir) / f"job-{n:04d}.png")
