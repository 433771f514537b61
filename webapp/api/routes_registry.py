"""Imports every API route module so its routes register on the blueprint.

Add a line here when adding a module under webapp/api/.
"""
