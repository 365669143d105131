"""The kiosk front end: one Flask blueprint (routes.py, events.py, static/)."""
