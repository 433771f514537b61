"""E-mails of a teacher's sign-up: received, to the school's coordinators, confirmed, rejected.

Written in the parents' letter layout (``webapp.parents.emails``)."""

from __future__ import annotations

from models import Role, Ticket, User
from models.teacher_signup import TeacherSignup
from webapp.parents.emails import base_url, event_url, send_mail, ticket_mail, venue_text
from webapp.parents.links import manage_url

LETTERS = "teacher_signups/email/"


def teacher_signup_received(signup: TeacherSignup, secret: str) -> None:
    send_mail(signup.email, f"Заявка получена: {signup.event.title}", LETTERS + "received",
              signup=signup, event=signup.event, venue=venue_text(signup.event),
              event_url=event_url(signup.event), manage_url=manage_url(secret))


def coordinators_new_teacher_signup(signup: TeacherSignup) -> None:
    coordinators = User.query.filter(User.role == Role.COORDINATOR, User.active.is_(True),
                                     User.organization_id == signup.organization_id).all()
    for user in coordinators:
        send_mail(user.email, f"Педагог просит подтвердить запись: {signup.event.title}",
                  LETTERS + "to_coordinator", signup=signup, event=signup.event,
                  review_url=f"{base_url()}/school/teacher-signups")


def teacher_signup_confirmed(signup: TeacherSignup, ticket: Ticket) -> None:
    ticket_mail(signup.email, f"Школа подтвердила запись: {signup.event.title}",
                LETTERS + "confirmed", ticket, name=signup.full_name, signup=signup)


def teacher_signup_rejected(signup: TeacherSignup) -> None:
    send_mail(signup.email, f"Заявка отклонена: {signup.event.title}", LETTERS + "rejected",
              signup=signup, event=signup.event, event_url=event_url(signup.event))
