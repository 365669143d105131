"""The admin front end: one Flask blueprint (routes.py, events.py, static/)."""
