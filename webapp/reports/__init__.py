"""The report pages (blueprint ``reports``): the web side of the ``reports`` package, which only
computes and never imports ``webapp``."""

from webapp.reports.routes import bp  # noqa: F401
