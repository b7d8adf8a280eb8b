"""Reports over ``results.json`` files: tables, normalised scores, figures, Markdown and HTML.

Importing this package is light: matplotlib is only imported when figures are drawn.
"""

from .aggregate import (
    DIAGNOSTIC_METRICS,
    Cell,
    CategoryScore,
    Normalised,
    StabilityEntry,
    category_comparison,
    collect_cells,
    minmax_normalise,
    normalised_scores,
    primary_metric,
    protocol_warning,
    recipe_text,
    stability,
    stability_table,
)
from .build import ReportOutput, report_from_files, write_report
from .data import DEFAULT_TITLE, ReportData, build_report_data
from .load import SCHEMA_VERSION, ResultsError, SystemResults, load_results, load_systems, validate_results

__all__ = [
    "DEFAULT_TITLE", "DIAGNOSTIC_METRICS", "SCHEMA_VERSION", "CategoryScore", "Cell", "Normalised", "ReportData",
    "ReportOutput", "ResultsError", "StabilityEntry", "SystemResults", "build_report_data", "category_comparison",
    "collect_cells", "load_results", "load_systems", "minmax_normalise", "normalised_scores", "primary_metric",
    "protocol_warning", "recipe_text", "report_from_files", "stability", "stability_table", "validate_results",
    "write_report",
]
