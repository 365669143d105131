"""The fake TCP/9100 printer: exact bytes, status replies, simulated faults."""

from __future__ import annotations

import socket

from server.printing.adapters import (
    OFFLINE,
    OK,
    PAPER_LOW,
    PAPER_OUT,
    PrinterConfig,
    check_health,
    send_bytes,
)


def cfg_for(fake, **kw) -> PrinterConfig:
    return PrinterConfig(id=1, name="t", host=fake.host, port=fake.port, **kw)


def test_receives_exact_bytes(fake_printer, tmp_path):
    fake_printer.save_dir = tmp_path
    payload = bytes(range(256)) * 40 + "钥匙交接".encode("gb18030")
    send_bytes(cfg_for(fake_printer), payload, timeout=2)
    assert fake_printer.wait_for(1) == [payload]
    saved = list(tmp_path.glob("*.bin"))
    assert len(saved) == 1 and saved[0].read_bytes() == payload


def test_status_queries_answered_and_not_jobs(fake_printer):
    assert check_health(cfg_for(fake_printer), timeout=2).status == OK
    fake_printer.set_paper_low()
    assert check_health(cfg_for(fake_printer), timeout=2).status == PAPER_LOW
    fake_printer.set_paper_out()
    assert check_health(cfg_for(fake_printer), timeout=2).status == PAPER_OUT
    assert fake_printer.status_queries == 6
    assert fake_printer.received == []


def test_raw_status_reply_bytes(fake_printer):
    with socket.create_connection(fake_printer.address, timeout=2) as s:
        s.sendall(b"\x10\x04\x01")
        assert s.recv(1) == b"\x12"
        s.sendall(b"\x10\x04")  # a query split across two TCP segments
        s.sendall(b"\x04")
        assert s.recv(1) == b"\x12"


def test_offline_refuse_and_back(fake_printer):
    fake_printer.set_offline(True, mode="refuse")
    assert check_health(cfg_for(fake_printer), timeout=1).status == OFFLINE
    fake_printer.set_offline(False)
    assert check_health(cfg_for(fake_printer), timeout=1).status == OK


def test_offline_close_mode(fake_printer):
    fake_printer.set_offline(True, mode="close")
    assert check_health(cfg_for(fake_printer), timeout=1).status == OFFLINE
    fake_printer.set_offline(False)
    assert check_health(cfg_for(fake_printer), timeout=1).status == OK


def test_preview_printer_never_sends():
    cfg = PrinterConfig(id=1, name="preview", connection="preview")
    assert check_health(cfg).status == OK
    send_bytes(cfg, b"anything")  # no error, nowhere
