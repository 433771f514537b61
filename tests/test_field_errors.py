"""Shared error rules: the one collector of field errors (every message kept per field, the
first code and status win) and the one client_scan_id conflict."""

import pytest

from checkin.door.scans import check_client_scan_event
from errors import ConflictError, FieldErrors, ServiceError


def test_nothing_added_raises_nothing():
    errors = FieldErrors()
    assert not errors
    errors.raise_if_any("Проверьте данные формы.")
    assert errors.fields == {}


def test_messages_join_per_field_and_the_first_code_and_status_win():
    errors = FieldErrors()
    errors.add("student_ids", "Иванов И.: ученик выбыл из списка школы.", code="inactive_person")
    errors.add("teacher_ids", "Уже записаны: Петров П.", code="duplicate_ticket", status=409)
    errors.add("student_ids", "Сидоров С.: мероприятие для 9–11 классов.",
               code="grade_not_allowed")
    assert "student_ids" in errors and "name" not in errors
    with pytest.raises(ServiceError) as info:
        errors.raise_if_any()
    err = info.value
    assert (err.code, err.status) == ("inactive_person", 422)
    assert err.fields == {
        "student_ids": "Иванов И.: ученик выбыл из списка школы. "
                       "Сидоров С.: мероприятие для 9–11 классов.",
        "teacher_ids": "Уже записаны: Петров П."}
    assert err.message.startswith("Иванов И.") and err.message.endswith("9–11 классов.")


def test_summary_code_and_caught_fields():
    errors = FieldErrors()
    errors.update({"phone": "Неверный номер телефона."})
    errors.add("consent", "Отметьте согласие.")
    with pytest.raises(ServiceError) as info:
        errors.raise_if_any("Проверьте данные формы.", code="consent_required")
    assert info.value.code == "consent_required"
    assert info.value.message == "Проверьте данные формы."
    assert info.value.fields == {"phone": "Неверный номер телефона.",
                                 "consent": "Отметьте согласие."}


def test_a_client_scan_id_belongs_to_one_event():
    check_client_scan_event(7, 7)
    with pytest.raises(ConflictError) as info:
        check_client_scan_event(7, 8)
    assert info.value.code == "client_scan_id_conflict"
    assert info.value.fields == {"client_scan_id": info.value.message}
    assert "другого мероприятия" in info.value.message
