"""From printer configuration to a python-escpos printer object; health checks; sending bytes.

Every function opens its own connection and always closes it: receipt printers accept one TCP
client at a time, and a held connection would lock out the admin's "test page" or a second
server process.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Any

from ._escpos import printer
from .render_escpos import RenderTarget

DEFAULT_TIMEOUT = 3.0

# Health states, also stored in Printer.last_status.
OK, PAPER_LOW, PAPER_OUT, OFFLINE, UNKNOWN = "ok", "paper_low", "paper_out", "offline", "unknown"


@dataclass(frozen=True)
class PrinterConfig:
    """A detached copy of a Printer row: safe to use from the worker thread after commit."""

    id: int | None
    name: str
    connection: str = "network"
    host: str | None = None
    port: int | None = 9100
    usb_vendor_id: int | None = None
    usb_product_id: int | None = None
    serial_device: str | None = None
    serial_baudrate: int | None = 9600
    file_path: str | None = None
    paper_width_mm: int = 80
    mode: str = "native"
    profile: str = "default"
    native_qr: bool = False

    @classmethod
    def from_model(cls, p: Any) -> PrinterConfig:
        return cls(
            id=p.id,
            name=p.name,
            connection=p.connection,
            host=p.host,
            port=p.port,
            usb_vendor_id=p.usb_vendor_id,
            usb_product_id=p.usb_product_id,
            serial_device=p.serial_device,
            serial_baudrate=p.serial_baudrate,
            file_path=p.file_path,
            paper_width_mm=p.paper_width_mm,
            mode=p.mode,
            profile=p.profile or "default",
            native_qr=bool(p.native_qr),
        )

    @property
    def target(self) -> RenderTarget:
        return RenderTarget(self.paper_width_mm, self.mode, self.profile, self.native_qr)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Health:
    status: str  # ok | paper_low | paper_out | offline | unknown
    detail: str | None = None

    @property
    def can_print(self) -> bool:
        # unknown: the printer took the connection but does not answer DLE EOT (many cheap
        # network printers); sending is the only way to find out.
        return self.status in (OK, PAPER_LOW, UNKNOWN)


class PrinterUnavailable(Exception):
    pass


def open_printer(cfg: PrinterConfig, timeout: float = DEFAULT_TIMEOUT):
    """A connected python-escpos printer for the configuration, or PrinterUnavailable."""
    kind = cfg.connection
    try:
        if kind == "network":
            if not cfg.host:
                raise PrinterUnavailable("no host configured / 未配置打印机地址")
            p = printer.Network(cfg.host, port=cfg.port or 9100, timeout=timeout)
        elif kind == "usb":
            p = printer.Usb(cfg.usb_vendor_id, cfg.usb_product_id, timeout=int(timeout * 1000))
        elif kind == "serial":
            p = printer.Serial(
                devfile=cfg.serial_device or "",
                baudrate=cfg.serial_baudrate or 9600,
                timeout=timeout,
            )
        elif kind == "file":
            if not cfg.file_path:
                raise PrinterUnavailable("no file path configured / 未配置设备文件")
            p = printer.File(devfile=cfg.file_path)
        elif kind == "preview":
            p = printer.Dummy()
        else:
            raise PrinterUnavailable(f"unknown connection kind {kind!r}")
        p.open()
    except PrinterUnavailable:
        raise
    except Exception as e:  # DeviceNotFoundError, OSError, missing pyusb/pyserial ...
        raise PrinterUnavailable(f"{type(e).__name__}: {e}".strip()) from e
    return p


def _close(p) -> None:
    with contextlib.suppress(Exception):
        p.close()


def check_health(cfg: PrinterConfig, timeout: float = DEFAULT_TIMEOUT) -> Health:
    """DLE EOT 1 (online) and DLE EOT 4 (paper) on a connection of its own."""
    if cfg.connection == "preview":
        return Health(OK)
    if cfg.connection == "file":
        return _file_health(cfg.file_path or "")
    try:
        p = open_printer(cfg, timeout)
    except PrinterUnavailable as e:
        return Health(OFFLINE, str(e))
    try:
        online = p.is_online()
        paper = p.paper_status()
    except TimeoutError:
        return Health(UNKNOWN, "no status reply / 打印机未应答状态查询")
    except NotImplementedError:
        return Health(UNKNOWN)
    except Exception as e:
        return Health(OFFLINE, f"{type(e).__name__}: {e}")
    finally:
        _close(p)
    # Paper first: printers out of paper also report themselves offline.
    if paper == 0:
        return Health(PAPER_OUT, "out of paper / 缺纸")
    if not online:
        return Health(OFFLINE, "printer reports offline (cover open?) / 打印机离线（纸仓盖未关？）")
    if paper == 1:
        return Health(PAPER_LOW, "paper low / 纸将用尽")
    return Health(OK)


def _file_health(path: str) -> Health:
    if os.path.exists(path):
        return (
            Health(UNKNOWN)
            if os.access(path, os.W_OK)
            else Health(OFFLINE, f"{path}: no write access")
        )
    # A missing /dev/usb/lp0 means the printer is unplugged; a plain file is created on write.
    if path.startswith("/dev/") or not os.access(os.path.dirname(path) or ".", os.W_OK):
        return Health(OFFLINE, f"{path}: not found / 设备不存在")
    return Health(UNKNOWN)


def send_bytes(cfg: PrinterConfig, data: bytes, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Send one job's bytes; raises PrinterUnavailable if it did not reach the printer."""
    if cfg.connection == "preview":
        return
    p = open_printer(cfg, timeout)
    try:
        p._raw(data)
    except Exception as e:
        raise PrinterUnavailable(f"{type(e).__name__}: {e}") from e
    finally:
        _close(p)
