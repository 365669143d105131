"""The admin front end: one Flask blueprint (routes.py, events.py, static/)."""


def register_pages(app) -> None:
    """Imports, settings, floor view, owners and audit log: one blueprint per page group."""
    from . import config, floor, imports, privacy

    for module in (imports, config, floor, privacy):
        app.register_blueprint(module.bp)
