"""The HTML report: one self-contained page comparing training runs (see tinydet.eval.report.html)."""

from tinydet.eval.report.html import build_report, write_report

__all__ = ["build_report", "write_report"]
