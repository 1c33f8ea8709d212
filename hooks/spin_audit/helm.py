"""Helm charts: what belongs to one, and how spin-audit declines it.

A chart (a folder with Chart.yaml), any file in it (templates/, values files, helpers) and a
values file on its own are templates: what Spin receives is what `helm template` renders, and
that is what spin-audit can judge (`helm template NAME CHART | spin-audit -`). Standard library
only, so that deciding what a PATH is stays cheap.
"""

from __future__ import annotations

import os
import re

from spin_audit.loader import TemplateError, display_path, first_existing, template_reason

CHART_NAMES = ("Chart.yaml", "Chart.yml")
CHART_PARTS = ("templates", "charts", "crds")  # folders of a chart whose files Helm renders or ships
# values.yaml, values-prod.yaml, values.dev.yml, prod-values.yaml: Helm's values files by the names charts use.
VALUES_NAME = re.compile(r"(?:.+[-_.])?values(?:[-_.].+)?\.ya?ml", re.IGNORECASE)


def chart_file(folder: str) -> str | None:
    """The folder's Chart.yaml, if it is a chart."""
    return first_existing(folder, CHART_NAMES)


def chart_of(path: str) -> str | None:
    """The chart folder a file belongs to: its own folder's chart, or the chart whose templates/, charts/ or
    crds/ holds it at any depth."""
    folder = os.path.dirname(path)
    if chart_file(folder):
        return folder
    child, folder = os.path.basename(folder), os.path.dirname(folder)
    while True:
        if child in CHART_PARTS and chart_file(folder):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        child, folder = os.path.basename(folder), parent


def is_values_name(name: str) -> bool:
    """values.yaml and its kin; a compose file's name (docker-compose.values.yml) says what it is."""
    return VALUES_NAME.fullmatch(name) is not None and "compose" not in name.lower()


def chart_reason(chart: str, path: str | None = None) -> str:
    """Why a chart (or `path`, a file of it) is not audited, and the command that audits what it renders."""
    shown = display_path(chart)
    what = "a Helm chart" if path in (None, chart) else f"a file of the Helm chart {shown}"
    return template_reason(what, f"audit what it renders: `helm template NAME {shown} | spin-audit -`, or the "
                                 "folder it renders to")


def helm_template(path: str) -> TemplateError | None:
    """TemplateError for a chart folder, a file of a chart, or a values file; None for anything else."""
    chart = path if os.path.isdir(path) and chart_file(path) else None if os.path.isdir(path) else chart_of(path)
    if chart is not None:
        return TemplateError(display_path(path), chart_reason(chart, path))
    if os.path.isfile(path) and is_values_name(os.path.basename(path)):
        return TemplateError(display_path(path), template_reason(
            "a Helm values file", "audit what the chart renders with it: `helm template NAME CHART -f "
                                  f"{display_path(path)} | spin-audit -`"))
    return None
