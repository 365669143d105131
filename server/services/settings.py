from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QueueSettings:
    max_recalls: int = 2
    no_show_policy: str = "requeue"  # or "out"

    @classmethod
    def from_config(cls, config) -> QueueSettings:
        return cls(
            max_recalls=int(config.get("MAX_RECALLS", 2)),
            no_show_policy=str(config.get("NO_SHOW_POLICY", "requeue")),
        )
