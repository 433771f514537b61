"""Fuzzing the JSON API from its own OpenAPI document (schemathesis, in process via WSGI).

Every documented operation is called with valid (positive) and invalid (negative) generated
data, with the token of each role (admin, organizer, coordinator): no answer may be a 5xx, and
every answer must match the documented schema (the success schema, or the error shape).

Deterministic: Hypothesis runs derandomized with no example database, so CI does not flake.
Cases per operation, role and mode: ``FUZZ_EXAMPLES`` (default 20 on PostgreSQL — the CI step —
and 3 on SQLite, so ``make test`` runs it quickly too).
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from models import EventStatus, Role, now_utc
from tests.conftest import is_postgres

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES") or (20 if is_postgres() else 3))


@pytest.fixture
def tokens(factory, db):
    admin = factory.create_user(Role.ADMIN)
    organizer = factory.create_user(Role.ORGANIZER)
    coordinator = factory.create_user(Role.COORDINATOR)
    start = now_utc() + timedelta(days=10)
    event = factory.create_event(organizer.organization, starts_at=start,
                                 ends_at=start + timedelta(hours=2),
                                 status=EventStatus.PUBLISHED)
    student = factory.create_student(coordinator.organization)
    factory.create_ticket(event, student)
    result = {role: factory.bearer(factory.create_token(user)) for role, user in
              (("admin", admin), ("organizer", organizer), ("coordinator", coordinator))}
    db.session.commit()
    return result


def _checks():
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
    )

    return [not_a_server_error, response_schema_conformance, content_type_conformance]


def test_api_fuzz_no_5xx_and_responses_match_the_document(app, tokens):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    checks = _checks()
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20  # the whole API, not an empty document

    for operation in operations:
        for role, headers in tokens.items():
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                seen = _fuzz(operation, mode, headers, checks)
                failures.extend(f"[{role}, {mode.value}] {line}"[:1500] for line in seen)

    assert not failures, "\n\n".join(failures)


def _fuzz(operation, mode, headers: dict, checks: list) -> list[str]:
    """Run up to EXAMPLES generated cases; the first failure (unshrunk, to stay fast)."""
    seen: list[str] = []

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        if seen:
            return  # one failure per operation, role and mode is enough
        try:
            # identity: the WSGI test client does not undo gzip (scanner-data compresses)
            case.call_and_validate(headers={**headers, "Accept-Encoding": "identity"},
                                   checks=checks)
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - reported by the caller
            seen.append(f"{case.method} {case.formatted_path} body={case.body!r} "
                        f"query={case.query!r}: {exc}")

    try:
        run()
    except Unsatisfiable:
        pass  # negative mode, an operation with no input to make invalid (GET /ping)
    except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - e.g. an unusable schema
        seen.append(f"{operation.label}: {exc!r}")
    return seen
