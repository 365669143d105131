"""Imports from the sales system's spreadsheets (XLSX / CSV): read, check, dry run, apply."""

from .importer import ImportReport, KindResult, RowError, run_import
from .rows import KINDS, ORDER

__all__ = ["KINDS", "ORDER", "ImportReport", "KindResult", "RowError", "run_import"]
