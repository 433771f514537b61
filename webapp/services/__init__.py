"""Business services of the directory (organizations, users, baselines).

Services take plain arguments, flush but never commit, and raise ``ServiceError``.
"""
