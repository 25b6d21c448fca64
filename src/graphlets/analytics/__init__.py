"""Pipeline analytics of any MLMD store, after Xin et al. (SIGMOD 2021), built on the graphlets of
:mod:`graphlets.lineage`: ``build_report(store, out_dir)`` writes report.html, report.json and the
figures; ``compute_report(store)`` returns the numbers only."""

from graphlets.analytics.report import Report, build_report, compute_report

__all__ = ["Report", "build_report", "compute_report"]
