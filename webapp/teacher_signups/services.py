"""Teachers signing up without an account: the request, the coordinator's decision against
the school's roster (match a teacher or add one), and the pending list.

Shares the parents' sign-up machinery (consent, the private /my/<secret> link, e-mail checks,
the per-IP limit); the private link's page and its cancel stay in ``webapp.parents``.
Services flush, never commit; the route commits once.
"""

from __future__ import annotations

from dataclasses import dataclass

from checkin.seats.capacity import lock_event
from checkin.seats.registration import allocate_ticket
from errors import ConflictError, FieldErrors, NotFoundError, PermissionDenied, ServiceError
from formats.person_names import add_name_problems
from formats.phones import normalize_phone
from formats.text import fold
from models import (
    Audience,
    Event,
    EventStatus,
    Role,
    Teacher,
    TicketKind,
    User,
    db,
    now_utc,
    record_audit,
)
from models.teacher_signup import TeacherSignup, TeacherSignupStatus
from webapp.parents.consent import CURRENT_CONSENT_VERSION
from webapp.parents.links import manage_url
from webapp.parents.services import (
    check_signup_open,
    new_manage_secret,
    normalize_email_address,
    rate_limit_signups,
    signup_school,
)
from webapp.teacher_signups import emails


@dataclass
class TeacherSignupResult:
    signup: TeacherSignup
    secret: str

    @property
    def manage_url(self) -> str:
        return manage_url(self.secret)


def sign_up_teacher(event_id: int, *, last_name: str | None, first_name: str | None,
                    middle_name: str | None, email: str | None, phone: str | None,
                    organization_id: int | None, consent: bool = False,
                    ip: str | None = None) -> TeacherSignupResult:
    """A teacher asks for a place; the school's coordinator confirms it against the roster."""
    problems = FieldErrors()
    last_name = (last_name or "").strip()
    first_name = (first_name or "").strip()
    middle_name = (middle_name or "").strip() or None
    if not last_name:
        problems.add("last_name", "Введите фамилию.")
    if not first_name:
        problems.add("first_name", "Введите имя.")
    for key, value in (("last_name", last_name), ("first_name", first_name),
                       ("middle_name", middle_name)):
        if value and len(value) > 100:
            problems.add(key, "Не длиннее 100 символов.")
        else:
            add_name_problems(problems, **{key: value})
    norm_email = norm_phone = None
    try:
        norm_email = normalize_email_address(email)
        if norm_email is None:
            problems.add("email", "Введите адрес электронной почты: на него придёт билет.")
    except ServiceError as err:
        problems.update(err.fields)
    try:
        norm_phone = normalize_phone(phone)
    except ServiceError as err:
        problems.update(err.fields)
    try:
        signup_school(organization_id, "organization_id", required=True)
    except ServiceError as err:
        problems.update(err.fields)
    if consent is not True:
        problems.add("consent", ("Без согласия на обработку персональных данных записаться "
                               "нельзя. Отметьте согласие."))
    problems.raise_if_any("Проверьте данные формы.")

    event = lock_event(event_id)
    if event is None:
        raise NotFoundError("not_found", "Мероприятие не найдено.")
    check_signup_open(event, Audience.TEACHERS)
    rate_limit_signups(TeacherSignup, ip)
    duplicate = TeacherSignup.query.filter(
        TeacherSignup.event_id == event.id, TeacherSignup.email == norm_email,
        TeacherSignup.status.in_([TeacherSignupStatus.PENDING, TeacherSignupStatus.CONFIRMED]),
    ).first()
    if duplicate is not None:
        raise ConflictError("duplicate_signup", "С этим адресом почты уже есть заявка на это "
                            "мероприятие. Ссылка на неё — в письме.", field="email")
    secret, secret_hash = new_manage_secret()
    now = now_utc()
    signup = TeacherSignup(
        event_id=event.id, organization_id=organization_id, last_name=last_name,
        first_name=first_name, middle_name=middle_name, email=norm_email, phone=norm_phone,
        status=TeacherSignupStatus.PENDING, consent_version=CURRENT_CONSENT_VERSION,
        consent_at=now, consent_ip=ip, manage_secret_hash=secret_hash, created_at=now,
    )
    db.session.add(signup)
    db.session.flush()
    record_audit(None, "teacher_signup.create", signup, event_id=event.id)

    emails.teacher_signup_received(signup, secret)
    emails.coordinators_new_teacher_signup(signup)
    return TeacherSignupResult(signup, secret)


def roster_matches(signup: TeacherSignup) -> list[Teacher]:
    """Roster teachers of the chosen school who look like this person (e-mail or full name)."""
    teachers = Teacher.query.filter(Teacher.organization_id == signup.organization_id,
                                    Teacher.active.is_(True),
                                    Teacher.anonymized_at.is_(None)).all()
    last, first = fold(signup.last_name), fold(signup.first_name)
    by_email = [t for t in teachers if t.email and t.email.lower() == signup.email]
    by_name = [t for t in teachers if fold(t.last_name) == last
               and fold(t.first_name) == first and t not in by_email]
    return by_email + by_name


def _coordinator_check(actor: User, signup: TeacherSignup) -> None:
    if actor.role == Role.ADMIN:
        return
    if actor.role != Role.COORDINATOR or actor.organization_id != signup.organization_id:
        raise PermissionDenied("forbidden", "Подтверждать заявки может только координатор "
                               "этой школы.")


def confirm_teacher_signup(actor: User, signup_id: int, *, teacher_id: int | None = None,
                           add_to_roster: bool = False) -> TeacherSignup:
    """Confirm against the roster: match an existing teacher or add the person to the roster,
    then allocate a ticket (confirmed or waiting list)."""
    signup = db.session.get(TeacherSignup, signup_id)
    if signup is None:
        raise NotFoundError("not_found", "Заявка не найдена.")
    _coordinator_check(actor, signup)
    event = lock_event(signup.event_id)
    signup = db.session.get(TeacherSignup, signup_id)
    if signup.status != TeacherSignupStatus.PENDING:
        raise ConflictError("already_decided", "По этой заявке уже есть решение: "
                            f"{signup.status.title.lower()}.")
    if event.status != EventStatus.PUBLISHED or now_utc() >= event.ends_at:
        raise ConflictError("registration_closed", "Мероприятие отменено или уже прошло.")
    if teacher_id is not None:
        teacher = db.session.get(Teacher, teacher_id)
        if teacher is None or teacher.organization_id != signup.organization_id \
                or teacher.anonymized_at is not None:
            raise ServiceError("unknown_teacher", "Выберите педагога из списка вашей школы.",
                               field="teacher_id")
        if not teacher.email:
            teacher.email = signup.email
    elif add_to_roster:
        teacher = Teacher(organization_id=signup.organization_id, last_name=signup.last_name,
                          first_name=signup.first_name, middle_name=signup.middle_name,
                          email=signup.email, active=True)
        db.session.add(teacher)
        db.session.flush()
        record_audit(actor, "teacher.create", teacher, via="teacher_signup")
    else:
        raise ServiceError("teacher_required", "Выберите педагога из списка школы или добавьте "
                           "его в список.", field="teacher_id")
    ticket = allocate_ticket(event, TicketKind.TEACHER, teacher=teacher,
                             organization_id=signup.organization_id)
    signup.status = TeacherSignupStatus.CONFIRMED
    signup.teacher_id = teacher.id
    signup.ticket_id = ticket.id
    signup.decided_by_id = actor.id
    signup.decided_at = now_utc()
    db.session.flush()
    record_audit(actor, "teacher_signup.confirm", signup, event_id=event.id,
                 teacher_id=teacher.id, ticket_status=ticket.status.value)

    emails.teacher_signup_confirmed(signup, ticket)
    return signup


def reject_teacher_signup(actor: User, signup_id: int, reason: str) -> TeacherSignup:
    signup = db.session.get(TeacherSignup, signup_id)
    if signup is None:
        raise NotFoundError("not_found", "Заявка не найдена.")
    _coordinator_check(actor, signup)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("reason_required", "Напишите причину: её получит педагог.",
                           field="reason")
    if signup.status != TeacherSignupStatus.PENDING:
        raise ConflictError("already_decided", "По этой заявке уже есть решение.")
    signup.status = TeacherSignupStatus.REJECTED
    signup.reject_reason = reason[:1000]
    signup.decided_by_id = actor.id
    signup.decided_at = now_utc()
    db.session.flush()
    record_audit(actor, "teacher_signup.reject", signup, event_id=signup.event_id)

    emails.teacher_signup_rejected(signup)
    return signup


def pending_teacher_signups(organization_id: int | None):
    """Sign-ups still to decide, for events not over yet, oldest first."""
    query = TeacherSignup.query.join(Event, TeacherSignup.event_id == Event.id).filter(
        TeacherSignup.status == TeacherSignupStatus.PENDING, Event.ends_at > now_utc(),
        Event.status == EventStatus.PUBLISHED)
    if organization_id is not None:
        query = query.filter(TeacherSignup.organization_id == organization_id)
    return query.order_by(TeacherSignup.created_at).all()
