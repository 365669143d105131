"""Kept so that `from server.services.actor import Actor` goes on working; the home of Actor is
server/actor.py (neutral: auth, services and the demo all use it)."""

from server.actor import SYSTEM, Actor

__all__ = ["SYSTEM", "Actor"]
