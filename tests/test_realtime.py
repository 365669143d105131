"""Latest-wins broadcasts (the queue state, the day's progress) are merged under a burst, so
100 boards are not sent thirty queue states a second, and no board is left showing an old one."""

from __future__ import annotations

import threading
import time

from server.realtime import LATEST_WINS, QUEUE_CHANGED, TICKET_CALLED, Coalescer, Outgoing


class Recorder:
    def __init__(self):
        self.sent: list[tuple[str, dict, str]] = []
        self.lock = threading.Lock()

    def __call__(self, event_name, payload, room):
        with self.lock:
            self.sent.append((event_name, payload, room))

    def wait_for(self, n: int, timeout: float = 5.0) -> list[tuple[str, dict, str]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.sent) >= n:
                    return list(self.sent)
            time.sleep(0.01)
        return list(self.sent)


def test_calls_are_never_merged_queue_states_are():
    assert QUEUE_CHANGED in LATEST_WINS
    assert TICKET_CALLED not in LATEST_WINS


def test_a_quiet_floor_gets_each_change_at_once():
    sent = Recorder()
    c = Coalescer(sent, interval=0.05)
    c.offer(Outgoing(QUEUE_CHANGED, {"v": 1}, ("display",)))
    assert sent.sent == [(QUEUE_CHANGED, {"v": 1}, "display")]  # no timer, no delay
    time.sleep(0.06)
    c.offer(Outgoing(QUEUE_CHANGED, {"v": 2}, ("display",)))
    assert sent.sent[-1] == (QUEUE_CHANGED, {"v": 2}, "display")


def test_a_burst_is_sent_as_its_first_and_its_newest_state():
    sent = Recorder()
    c = Coalescer(sent, interval=0.2)
    for v in range(30):
        c.offer(Outgoing(QUEUE_CHANGED, {"v": v}, ("display",)))
    got = sent.wait_for(2)
    assert [p["v"] for _e, p, _r in got] == [0, 29]  # the newest arrives, nothing in between
    time.sleep(0.3)
    assert len(sent.sent) == 2  # and nothing more once it was sent


def test_rooms_and_events_are_merged_separately():
    sent = Recorder()
    c = Coalescer(sent, interval=0.2)
    c.offer(Outgoing(QUEUE_CHANGED, {"v": 1}, ("display",)))
    c.offer(Outgoing(QUEUE_CHANGED, {"v": 1}, ("staff",)))
    c.offer(Outgoing("board_progress", {"handed": 3}, ("display",)))
    c.offer(Outgoing(QUEUE_CHANGED, {"v": 2}, ("display",)))
    got = sent.wait_for(4)
    assert sorted((e, r, p.get("v", p.get("handed"))) for e, p, r in got) == [
        ("board_progress", "display", 3),
        (QUEUE_CHANGED, "display", 1),
        (QUEUE_CHANGED, "display", 2),
        (QUEUE_CHANGED, "staff", 1),
    ]


def test_a_failing_send_does_not_stop_later_ones():
    sent = Recorder()

    def flaky(event_name, payload, room):
        if room == "broken" and payload["v"] == 2:
            raise RuntimeError("socket gone")
        sent(event_name, payload, room)

    c = Coalescer(flaky, interval=0.05)
    c.offer(Outgoing(QUEUE_CHANGED, {"v": 1}, ("broken",)))
    c.offer(
        Outgoing(QUEUE_CHANGED, {"v": 2}, ("broken",))
    )  # merged, sent by the thread: that send fails
    time.sleep(0.15)
    c.offer(Outgoing(QUEUE_CHANGED, {"v": 1}, ("display",)))
    c.offer(
        Outgoing(QUEUE_CHANGED, {"v": 2}, ("display",))
    )  # merged: only the same thread can send it
    got = sent.wait_for(3)
    assert got[-1] == (QUEUE_CHANGED, {"v": 2}, "display")


def test_a_built_state_is_built_once_per_burst_from_the_newest_data_off_the_callers_thread():
    sent = Recorder()
    c = Coalescer(sent, interval=0.2)
    data = {"waiting": 0}
    builds: list[str] = []

    def build():
        builds.append(threading.current_thread().name)
        return dict(data)

    for n in range(1, 21):  # twenty check-ins in a burst, each publishing "the queue changed"
        data["waiting"] = n
        c.offer(Outgoing(QUEUE_CHANGED, None, ("display", "staff"), build=build, key=(1, "day")))
    got = sent.wait_for(4)
    assert len(builds) <= 2 and threading.current_thread().name not in builds
    assert got[-2:] == [
        (QUEUE_CHANGED, {"waiting": 20}, "display"),
        (QUEUE_CHANGED, {"waiting": 20}, "staff"),
    ]  # one build serves every room, and the last one sent is the newest state


def test_tests_emitter_gets_the_built_payload(app, venue, staff_client, events):
    from tests.test_sockets import check_in

    check_in(staff_client, venue.codes[0])
    queue = [e for e in events if e.event == QUEUE_CHANGED]
    assert queue and queue[-1].payload is not None and queue[-1].build is None
    assert {s["code"]: s["waiting"] for s in queue[-1].payload["steps"]}["verify"] == 1


def test_a_reset_starts_a_quiet_floor():
    sent = Recorder()
    c = Coalescer(sent, interval=30)
    c.offer(Outgoing(QUEUE_CHANGED, {"v": 1}, ("display",)))
    c.offer(Outgoing(QUEUE_CHANGED, {"v": 2}, ("display",)))  # waits: the interval is long
    c.reset()  # a new app: what waited belonged to the old one
    c.offer(Outgoing(QUEUE_CHANGED, {"v": 3}, ("display",)))
    assert [p["v"] for _e, p, _r in sent.sent] == [1, 3]  # at once, and the old one dropped
