"""Parents and teachers signing up without an account.

Every service takes plain arguments, flushes but never commits, and raises ``ServiceError``
(code, Russian message, field). Seat allocation goes through ``checkin.seats.registration``
(``lock_event`` first, then ``allocate_ticket``).
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from checkin.seats.capacity import lock_event
from checkin.seats.registration import allocate_ticket, cancel_ticket
from errors import (
    ConflictError,
    FieldErrors,
    NotFoundError,
    ServiceError,
)
from formats.person_names import add_name_problems
from formats.phones import normalize_phone
from formats.timefmt import format_datetime
from models import (
    LIVE_TICKET_STATUSES,
    Audience,
    Event,
    EventStatus,
    Organization,
    ParentSignup,
    Ticket,
    TicketKind,
    TicketStatus,
    db,
    now_utc,
    record_audit,
)
from models.event import REGISTRATION_CLOSED, REGISTRATION_NOT_YET
from models.organization import EDUCATIONAL_KINDS, in_name_order
from models.registration import SHORT_CODE_ALPHABET, SHORT_CODE_LENGTH
from models.teacher_signup import TeacherSignup, TeacherSignupStatus
from webapp.auth.throttle import count_public_attempt
from webapp.mail import is_valid_email, setting
from webapp.parents import emails
from webapp.parents.consent import CURRENT_CONSENT_VERSION
from webapp.parents.links import manage_url
from webapp.services.personal_data import erase_parent_signup


class RateLimited(ServiceError):
    status = 429


def normalize_email_address(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    email = raw.strip().lower()
    local, at, domain = email.rpartition("@")
    if at and domain and not domain.isascii():
        # «почта.рф» is sent as its ASCII form (punycode); a bad domain fails the check below.
        with contextlib.suppress(UnicodeError):
            email = f"{local}@{domain.encode('idna').decode('ascii')}"
    if at and not local.isascii():
        raise ServiceError("invalid_email", "Имя ящика (до @) должно быть латиницей: "
                           "почтовые серверы не принимают другие буквы.", field="email")
    if not is_valid_email(email):
        raise ServiceError("invalid_email", "Введите адрес электронной почты в формате "
                           "name@example.ru.", field="email")
    return email


def new_manage_secret() -> tuple[str, str]:
    """A 192-bit random secret for the /my/<secret> link, and its SHA-256 (what is stored)."""
    secret = secrets.token_urlsafe(24)
    return secret, hash_secret(secret)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def signup_schools():
    """Schools and kindergartens a parent or teacher may choose, in a stable order."""
    return in_name_order(Organization.query.filter(Organization.active.is_(True),
                                                   Organization.kind.in_(EDUCATIONAL_KINDS)).all(),
                         by_kind=True, shown="display_name")


def signup_school(organization_id: int | None, field: str, required: bool) -> Organization | None:
    if organization_id is None:
        if required:
            raise ServiceError("school_required", "Выберите школу.", field=field)
        return None
    org = db.session.get(Organization, organization_id)
    if org is None or not org.active or org.kind not in EDUCATIONAL_KINDS:
        raise ServiceError("unknown_school", "Выберите школу или детский сад из списка.",
                           field=field)
    return org


def check_signup_open(event: Event, audience: Audience) -> None:
    if event.status == EventStatus.CANCELLED:
        raise ConflictError("event_cancelled", "Мероприятие отменено: запись невозможна.")
    if event.status != EventStatus.PUBLISHED or event.school_internal:
        raise NotFoundError("not_found", "Мероприятие не найдено.")
    if event.audience != audience:
        if audience == Audience.PARENTS:
            raise ServiceError("wrong_audience", "Это мероприятие не для родителей: на него "
                               "записывает школа.")
        raise ServiceError("wrong_audience", "Это мероприятие не для педагогов.")
    phase = event.registration_phase()
    if phase == REGISTRATION_NOT_YET:
        raise ConflictError("registration_closed", "Запись ещё не открыта: она начнётся "
                            f"{format_datetime(event.registration_opens_at)}.")
    if phase == REGISTRATION_CLOSED:
        raise ConflictError("registration_closed", "Запись на это мероприятие закрыта.")


def rate_limit_signups(model, ip: str | None) -> None:
    if not ip:
        return

    limit = setting("SIGNUP_MAX_PER_IP", 20)
    window = timedelta(minutes=setting("SIGNUP_WINDOW_MINUTES", 10))
    recent = db.session.execute(
        sa.select(sa.func.count(model.id)).where(model.consent_ip == ip,
                                                 model.created_at >= now_utc() - window)
    ).scalar_one()
    if recent >= limit:
        minutes = int(window.total_seconds() // 60)
        raise RateLimited("rate_limited", "Слишком много записей с вашего адреса за короткое "
                          f"время. Подождите {minutes} минут и попробуйте снова. Если вы "
                          "записываете нескольких человек из одной сети (например, на "
                          "родительском собрании), попросите организатора помочь.")


# ---------------------------------------------------------------------------------------------
# Parents


@dataclass
class ParentSignupResult:
    signup: ParentSignup
    ticket: Ticket
    secret: str

    @property
    def manage_url(self) -> str:
        return manage_url(self.secret)


def parent_field_problems(*, name, phone, email, child_organization_id=None,
                          child_grade=None, consent=False):
    """Check a parent's form fields; returns (problems by field, phone, e-mail normalized)."""
    problems = FieldErrors()
    name = (name or "").strip()
    if not name:
        problems.add("name", "Введите фамилию и имя.")
    elif len(name) > 200:
        problems.add("name", "Не длиннее 200 символов.")
    else:
        add_name_problems(problems, name=name)
    norm_phone = norm_email = None
    try:
        norm_phone = normalize_phone(phone)
    except ServiceError as err:
        problems.update(err.fields)
    try:
        norm_email = normalize_email_address(email)
    except ServiceError as err:
        problems.update(err.fields)
    if norm_phone is None and norm_email is None and "phone" not in problems \
            and "email" not in problems:
        problems.add("email", "Укажите телефон или электронную почту (можно и то и другое).")
    if child_grade is not None and not (0 <= child_grade <= 11):
        problems.add("child_grade", "Класс — число от 0 до 11 (0 — детский сад).")
    if consent is not True:
        problems.add("consent", ("Без согласия на обработку персональных данных записаться "
                               "нельзя. Отметьте согласие."))
    try:
        signup_school(child_organization_id, "child_organization_id", required=False)
    except ServiceError as err:
        problems.update(err.fields)
    return problems.fields, norm_phone, norm_email


def sign_up_parent(event_id: int, *, name: str | None, phone: str | None, email: str | None,
                   child_organization_id: int | None = None, child_grade: int | None = None,
                   consent: bool = False, ip: str | None = None) -> ParentSignupResult:
    """Record a parent's sign-up with consent and give them a ticket (or a waiting-list place)."""
    problems, norm_phone, norm_email = parent_field_problems(
        name=name, phone=phone, email=email, child_organization_id=child_organization_id,
        child_grade=child_grade, consent=consent)
    name = (name or "").strip()
    if problems:
        code = "consent_required" if list(problems) == ["consent"] else "validation_error"
        raise ServiceError(code, "Проверьте данные формы.", fields=problems)

    event = lock_event(event_id)
    if event is None:
        raise NotFoundError("not_found", "Мероприятие не найдено.")
    check_signup_open(event, Audience.PARENTS)
    rate_limit_signups(ParentSignup, ip)
    _refuse_duplicate_parent(event.id, norm_phone, norm_email)

    secret, secret_hash = new_manage_secret()
    now = now_utc()
    signup = ParentSignup(
        event_id=event.id, name=name, phone=norm_phone, email=norm_email,
        child_organization_id=child_organization_id, child_grade=child_grade,
        consent_version=CURRENT_CONSENT_VERSION, consent_at=now, consent_ip=ip,
        manage_secret_hash=secret_hash, created_at=now,
    )
    db.session.add(signup)
    db.session.flush()
    ticket = allocate_ticket(event, TicketKind.PARENT, parent_signup=signup)
    record_audit(None, "parent_signup.create", signup, event_id=event.id,
                 status=ticket.status.value, consent_version=CURRENT_CONSENT_VERSION)

    emails.parent_confirmation(signup, ticket, secret)
    return ParentSignupResult(signup, ticket, secret)


def _refuse_duplicate_parent(event_id: int, phone: str | None, email: str | None) -> None:
    matches = []
    if phone:
        matches.append(ParentSignup.phone == phone)
    if email:
        matches.append(ParentSignup.email == email)
    existing = db.session.execute(
        sa.select(ParentSignup.phone, ParentSignup.email).join(
            Ticket, Ticket.parent_signup_id == ParentSignup.id)
        .where(ParentSignup.event_id == event_id, Ticket.status.in_(LIVE_TICKET_STATUSES),
               sa.or_(*matches))
    ).first()
    if existing is None:
        return
    field = "email" if email and existing.email == email else "phone"
    what = "этим адресом почты" if field == "email" else "этим номером телефона"
    raise ConflictError("duplicate_signup", f"С {what} уже есть запись на это мероприятие. "
                        "Ссылка для просмотра и отмены записи — в письме-подтверждении.",
                        field=field)


def find_by_secret(secret: str | None):
    """The parent or teacher sign-up behind a /my/<secret> link, or None."""
    if not secret or len(secret) < 20 or len(secret) > 64:
        return None
    digest = hash_secret(secret)
    signup = ParentSignup.query.filter_by(manage_secret_hash=digest).first()
    if signup is not None:
        return signup
    return TeacherSignup.query.filter_by(manage_secret_hash=digest).first()


#: Wrong tries on one ticket code per window, from any address: a phone number cannot be
#: guessed for a code someone saw on a screen.
RECOVERY_MAX_PER_CODE = 5
RECOVERY_NEUTRAL = ("Не удалось найти запись с таким кодом и телефоном. Проверьте код билета "
                    "(8 знаков, на странице записи и в билете) и номер, указанный при записи.")


def recovery_problems(code: str | None, phone: str | None) -> tuple[dict, str, str | None]:
    """Check the recovery form's fields by their shape only (never against the records):
    ``(problems by field, code normalized, phone normalized)``."""
    problems = FieldErrors()
    code = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    if not code:
        problems.add("code", "Введите код билета: 8 латинских букв и цифр.")
    elif len(code) != SHORT_CODE_LENGTH or any(ch not in SHORT_CODE_ALPHABET for ch in code):
        problems.add("code", "Код билета — 8 латинских букв и цифр, например K7M2QX9P "
                             "(без букв O, I, L и цифр 0, 1).")
    norm_phone = None
    try:
        norm_phone = normalize_phone(phone)
    except ServiceError as err:
        problems.update(err.fields)
    if norm_phone is None and "phone" not in problems:
        problems.add("phone", "Введите номер телефона, указанный при записи.")
    return problems.fields, code, norm_phone


def recover_parent_link(code: str | None, phone: str | None, ip: str | None) -> str | None:
    """A parent who lost the private link gets a new one by the ticket's 8-character code
    and the phone given at sign-up (no SMS). Returns the new secret, or None — the same None
    whether the code exists or not, so the form tells nothing about other people's codes.

    Every try is counted per address (``SIGNUP_MAX_PER_IP`` per ``SIGNUP_WINDOW_MINUTES``,
    like the sign-up forms) and per code (``RECOVERY_MAX_PER_CODE``); over either →
    ``RateLimited``. Only the link is replaced: the old one stops working, the ticket and its
    QR stay the same. The caller commits even when None is returned (the count must stay)."""
    problems, code, norm_phone = recovery_problems(code, phone)
    if problems:
        raise ServiceError("validation_error", "Проверьте данные формы.", fields=problems)
    window = timedelta(minutes=setting("SIGNUP_WINDOW_MINUTES", 10))
    limits = {f"recover:code:{code}": RECOVERY_MAX_PER_CODE}
    if ip:
        limits[f"recover:ip:{ip}"] = setting("SIGNUP_MAX_PER_IP", 20)
    if not count_public_attempt(limits, window):
        minutes = int(window.total_seconds() // 60)
        raise RateLimited("rate_limited", "Слишком много попыток. Подождите "
                          f"{minutes} минут и попробуйте снова.")
    signup = db.session.execute(
        sa.select(ParentSignup).join(Ticket, Ticket.parent_signup_id == ParentSignup.id)
        .where(Ticket.short_code == code, Ticket.kind == TicketKind.PARENT,
               ParentSignup.phone == norm_phone, ParentSignup.withdrawn_at.is_(None))
    ).scalar_one_or_none()
    if signup is None:
        return None
    secret, signup.manage_secret_hash = new_manage_secret()
    db.session.flush()
    record_audit(None, "parent_signup.recover_link", signup, event_id=signup.event_id)
    return secret


def parent_ticket(signup: ParentSignup) -> Ticket | None:
    return Ticket.query.filter_by(parent_signup_id=signup.id).first()


def cancel_parent_signup(signup: ParentSignup) -> Ticket:
    """The parent cancels: the ticket is cancelled and the seat goes to the waiting list."""
    ticket = parent_ticket(signup)
    if ticket is None or ticket.status == TicketStatus.CANCELLED:
        raise ConflictError("already_cancelled", "Эта запись уже отменена.")
    cancel_ticket(None, ticket)
    ticket = db.session.get(Ticket, ticket.id)
    record_audit(None, "parent_signup.cancel", ticket.parent_signup, event_id=ticket.event_id)
    return ticket


def withdraw_parent_consent(signup: ParentSignup) -> None:
    """Erase name and contacts (and the address), and their copies in the stored answers of
    scans and in the outbox (the private link); keep the ticket and any check-in, nameless.

    A live ticket for an event still ahead is cancelled (nobody to admit without a name); the
    attendance of a past event stays, so the parents' count in reports does not change.
    """
    signup_id = signup.id
    if signup.withdrawn_at is not None:
        raise ConflictError("already_withdrawn", "Согласие уже отозвано, данные удалены.")
    ticket = parent_ticket(signup)
    if (ticket is not None and ticket.status in LIVE_TICKET_STATUSES
            and now_utc() < ticket.event.starts_at):
        cancel_ticket(None, ticket)
    signup = db.session.get(ParentSignup, signup_id)
    erase_parent_signup(signup)
    db.session.flush()
    record_audit(None, "parent_signup.withdraw", signup, event_id=signup.event_id)


def cancel_teacher_signup(signup: TeacherSignup) -> TeacherSignup:
    """The teacher withdraws their own sign-up through the private link."""
    signup_id = signup.id
    if signup.status not in (TeacherSignupStatus.PENDING, TeacherSignupStatus.CONFIRMED):
        raise ConflictError("already_cancelled", "Эта заявка уже отменена или отклонена.")
    if now_utc() >= signup.event.starts_at:
        raise ConflictError("registration_closed", "Мероприятие уже началось: отменить заявку "
                            "нельзя.")
    if signup.status == TeacherSignupStatus.CONFIRMED and signup.ticket is not None \
            and signup.ticket.status in LIVE_TICKET_STATUSES:
        cancel_ticket(None, signup.ticket, enforce_window=False)
    signup = db.session.get(TeacherSignup, signup_id)
    signup.status = TeacherSignupStatus.CANCELLED
    db.session.flush()
    record_audit(None, "teacher_signup.cancel", signup, event_id=signup.event_id)
    return signup


def erase_past_parent_data(ended_before) -> int:
    """Retention: erase names and contacts of parents of events that ended before
    ``ended_before``, with their copies (stored scan answers, outbox messages); tickets and
    check-ins stay, so every count stays the same."""
    rows = (ParentSignup.query.join(Event, ParentSignup.event_id == Event.id)
            .filter(Event.ends_at < ended_before, ParentSignup.withdrawn_at.is_(None)).all())
    now = now_utc()
    for signup in rows:
        erase_parent_signup(signup, at=now)
    db.session.flush()
    if rows:
        record_audit(None, "parent_signup.erase_past", object_type="parent_signups",
                     count=len(rows), ended_before=ended_before.isoformat())
    return len(rows)
