"""Deterministic demo data. Each feature adds a step; steps run in order.

``load_demo("small")`` builds the data set behind `make run`; ``"city"`` a city-scale one
for benchmarks. Every step takes ``(rng, size, ctx)`` where ``ctx`` is a dict steps share.
"""

from __future__ import annotations

import random

from models import Organization, db
from webapp.demo import directory

DEMO_LOGINS = [
    ("admin@demo.local", "администратор города"),
    ("organizer@demo.local", "организатор (ЦПК «Планирование карьеры»)"),
    ("school@demo.local", "профкоординатор школы (МАОУ СОШ № 7)"),
]


def demo_steps(size: str):
    steps = [directory.load]
    for module_name in (CITY_STEPS if size == "city" else EXTRA_STEPS):
        module = __import__(module_name, fromlist=["load"])
        steps.append(module.load)
    return steps


#: Modules (each with a ``load(rng, size, ctx)``) run after the directory, in this order.
EXTRA_STEPS: list[str] = [
    "webapp.demo.events",     # a year of events, past and upcoming
    "webapp.demo.rosters",    # students and teachers, registrations and tickets
    "webapp.demo.parents",    # parent sign-ups
    "webapp.demo.checkins",   # check-ins for past events
    "webapp.demo.last_year",  # the previous academic year, held, to compare with
    "webapp.demo.targets",    # this year's goals, set from the forecast (every status shows)
    "webapp.demo.profminimum",  # формат, levels, the demo school's hours so far (#14)
]
#: The city-scale data set (benchmarks) is generated in bulk by one module.
CITY_STEPS: list[str] = ["webapp.demo.city"]


def database_is_empty() -> bool:
    return db.session.query(Organization.id).first() is None


def load_demo(size: str = "small", seed: int = 20251) -> dict:
    if size not in ("small", "city"):
        raise ValueError("size must be 'small' or 'city'")
    rng = random.Random(seed)
    ctx: dict = {}
    for step in demo_steps(size):
        step(rng, size, ctx)
        db.session.commit()
    return ctx
