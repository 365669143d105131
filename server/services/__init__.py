"""Use cases. Each: load -> apply engine rules -> commit -> publish events (sent after commit).
Views and socket handlers call these and nothing below them."""
