"""Plan changes during the day and the floor view, as services, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from server.engine import Invalid
from server.models import AuditLog, Project, Step, VisitStep
from server.services import checkin, floor, plan_config, queue
from server.services.actor import Actor
from server.services.settings import QueueSettings
from tests.conftest import build_venue

SUP = Actor(staff_id=2, role="supervisor", name="sup")  # the venue's supervisor (build_venue)


@pytest.fixture
def venue(database):
    with database.session() as s:
        return build_venue(s, units=6)


def test_floor_snapshot_waits_priority_and_counter_states(database, venue):
    t0 = venue.day
    with database.session() as s:
        v1 = checkin.check_in(
            s, project_id=venue.project_id, code=venue.codes[0], actor=SUP, now=t0
        )
        v2 = checkin.check_in(
            s,
            project_id=venue.project_id,
            code=venue.codes[1],
            actor=SUP,
            now=t0 + timedelta(minutes=1),
        )
        ids = (v1.id, v2.id)
    with database.session() as s:
        s.execute(select(Project)).scalar().wait_amber_minutes = 10
        s.commit()
        snap = floor.floor_snapshot(s, venue.project_id, venue.day.date())
        verify = next(x for x in snap["steps"] if x["code"] == "verify")
        assert verify["waiting"] == 2 and verify["open_counters"] == 3
        assert snap["progress"]["checked_in"] == 2 and snap["progress"]["expected"] == 6
        # The second owner is elderly: called first.
        floor.set_priority(
            s, project_id=venue.project_id, visit_id=ids[1], priority_class="elderly", actor=SUP
        )
        called = queue.call_next(
            s, counter_id=venue.counters["W01"], actor=SUP, now=t0 + timedelta(minutes=2)
        )
        assert called.visit_id == ids[1]
        assert s.scalar(select(AuditLog).where(AuditLog.action == "visit.priority"))
    with database.session() as s:
        snap = floor.floor_snapshot(s, venue.project_id, venue.day.date())
        w01 = next(c for c in snap["counters"] if c["code"] == "W01")
        assert w01["state"] == "called" and w01["visit_id"] == ids[1]
        with pytest.raises(Invalid) as err:
            plan_config.set_counter_open(s, venue.project_id, venue.counters["W01"], False, SUP)
        assert err.value.code == "counter_busy_close"
        plan_config.set_counter_open(s, venue.project_id, venue.counters["W02"], False, SUP)
        snap = floor.floor_snapshot(s, venue.project_id, venue.day.date())
        assert {c["code"]: c["state"] for c in snap["counters"]}["W02"] == "closed"


def test_plan_changes_refused_where_unsafe_and_rules_used_by_the_queue(database, venue):
    with database.session() as s:
        checkin.check_in(
            s, project_id=venue.project_id, code=venue.codes[0], actor=SUP, now=venue.day
        )
    with database.session() as s:
        with pytest.raises(Invalid) as err:
            plan_config.delete_item(s, venue.project_id, "steps", venue.steps["verify"], SUP)
        assert err.value.code == "item_in_use"
        assert s.get(Step, venue.steps["verify"]) is not None
        # A step nobody passed through yet can go.
        extra = plan_config.save_item(
            s,
            venue.project_id,
            "steps",
            None,
            {
                "code": "extra",
                "name_zh": "附加",
                "name_en": "Extra",
                "ticket_prefix": "E",
                "kind": "generic",
                "_form": "1",
            },
            SUP,
        )
        plan_config.delete_item(s, venue.project_id, "steps", extra.id, SUP)
        assert s.get(Step, extra.id) is None
        project = plan_config.update_rules(
            s,
            venue.project_id,
            {
                "early_grace_minutes": "15",
                "max_recalls": "0",
                "no_show_policy": "out",
                "wait_amber_minutes": "10",
                "wait_red_minutes": "25",
            },
            SUP,
        )
        settings = QueueSettings.for_project(project, {"MAX_RECALLS": 2})
        assert (settings.max_recalls, settings.no_show_policy) == (0, "out")
        with pytest.raises(Invalid):
            plan_config.update_rules(
                s,
                venue.project_id,
                {"early_grace_minutes": "15", "wait_amber_minutes": "30", "wait_red_minutes": "20"},
                SUP,
            )
        # With no recalls allowed and policy "out", a no-show leaves the queue at once.
        vs = queue.call_next(s, counter_id=venue.counters["W01"], actor=SUP, now=venue.day)
        queue.no_show(
            s,
            visit_step_id=vs.id,
            counter_id=venue.counters["W01"],
            actor=SUP,
            settings=settings,
            now=venue.day,
        )
        assert s.get(VisitStep, vs.id).visit.status == "out"


def test_deleting_a_type_referenced_elsewhere_is_refused_not_a_crash(database, venue):
    from server.models import OwnerRequest

    with database.session() as s:
        extra = plan_config.save_item(
            s,
            venue.project_id,
            "steps",
            None,
            {
                "code": "extra",
                "name_zh": "附加",
                "name_en": "Extra",
                "ticket_prefix": "E",
                "kind": "generic",
                "_form": "1",
            },
            SUP,
        )
        extra_id = extra.id
        s.add(OwnerRequest(project_id=venue.project_id, text="车位", step_id=extra_id))
        s.commit()
        with pytest.raises(Invalid) as err:
            plan_config.delete_item(s, venue.project_id, "steps", extra_id, SUP)
        assert err.value.code == "item_in_use"
    with database.session() as s:
        assert s.get(Step, extra_id) is not None
