"""Deterministic demo data. Each feature adds a step; steps run in order.

``load_demo("small")`` builds the data set behind `make run`; ``"city"`` a city-scale one
for benchmarks. Every step takes ``(rng, size, ctx)`` where ``ctx`` is a dict steps share.
"""

from __future__ import annotations

import random

from models import Organization, db

DEMO_PASSWORD = "demo"
DEMO_LOGINS = [
    ("admin@demo.local", "администратор города"),
    ("organizer@demo.local", "организатор (ЦПК «Планирование карьеры»)"),
    ("school@demo.local", "профкоординатор школы (МАОУ СОШ № 7)"),
]


def demo_steps():
    from webapp.demo import directory

    steps = [directory.load]
    for module_name in EXTRA_STEPS:
        module = __import__(module_name, fromlist=["load"])
        steps.append(module.load)
    return steps


#: Modules (with a ``load(rng, size, ctx)``) that later features add, in order.
EXTRA_STEPS: list[str] = []


def database_is_empty() -> bool:
    return db.session.query(Organization.id).first() is None


def load_demo(size: str = "small", seed: int = 20251) -> dict:
    if size not in ("small", "city"):
        raise ValueError("size must be 'small' or 'city'")
    rng = random.Random(seed)
    ctx: dict = {}
    for step in demo_steps():
        step(rng, size, ctx)
        db.session.commit()
    return ctx
