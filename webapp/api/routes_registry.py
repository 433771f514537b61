"""Imports every API route module so its routes register on the blueprint.

Add a line here when adding a module under webapp/api/.
"""
import webapp.api.attendance  # noqa: E402,F401  (attendance imports)
import webapp.api.class_attendance  # noqa: E402,F401  (class lists)
import webapp.api.events  # noqa: E402,F401  (events and categories)
import webapp.api.forecast  # noqa: E402,F401  (targets and the forecast)
import webapp.api.parents  # noqa: E402,F401  (parent sign-ups)
import webapp.api.profminimum  # noqa: E402,F401  (профминимум)
import webapp.api.registrations  # noqa: E402,F401  (group registrations)
import webapp.api.reports  # noqa: E402,F401  (indicators)
import webapp.api.rosters  # noqa: E402,F401  (students and teachers)
from webapp.api import scans  # noqa: E402,F401  (check-in at the door)
