"""Handover Day: the server core (app factory, models, engine, services)."""
