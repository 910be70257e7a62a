"""Figures and self-contained HTML reports (figures embedded, no external files)."""

from bayeskit.report.html import Report, figure_to_data_uri, write_atomic

__all__ = ["Report", "figure_to_data_uri", "write_atomic"]
