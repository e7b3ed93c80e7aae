"""Pictures of what the emulator was asked: SVG call timelines and HTML pages (web view, test reports)."""

from .document import render_report, report_path, write_report
from .svg import timeline

__all__ = ["render_report", "report_path", "timeline", "write_report"]
