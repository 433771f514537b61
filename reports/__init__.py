"""Reports: the nine monitoring indicators, spreadsheets, dashboards and the analytical report.

This package only reads. ``reports.indicators`` holds the aggregate SQL; ``reports.exports`` the
XLSX/CSV writers; ``webapp.reports.routes`` the pages (blueprint ``reports``).
"""
