"""«Профминимум» pages (issue #14; blueprint ``profminimum``): the school's page with its
classes, a class's list and who is behind; the city's page for admins; their XLSX. The
counting is ``reports.profminimum``."""

from webapp.profminimum.routes import bp  # noqa: F401
