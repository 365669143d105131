"""Who is asking, as every layer sees it: resolved by server.auth, passed to the services."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """Who is asking: a logged-in staff member or a registered device."""

    staff_id: int | None = None
    device_id: int | None = None
    role: str | None = None  # admin | supervisor | staff, or the device kind
    name: str = ""

    @property
    def is_staff(self) -> bool:
        return self.staff_id is not None


SYSTEM = Actor(role="system", name="system")
