"""SQLAlchemy models. This package never imports ``webapp``."""

from models.audit import AuditLog, record_audit
from models.base import db, folded, now_utc
from models.early_rule import EarlyRule  # noqa: F401  (the city's early rule, admin area)
from models.event import Audience, Category, Event, EventStaff, EventStatus, RoadmapItem
from models.invitation import SchoolInvitation  # noqa: F401  (organizers invite schools, #15)
from models.notice import SchoolNotice  # noqa: F401  (school notices, registration area)
from models.organization import Baseline, CityPlan, Organization, OrgKind
from models.outbox import OutboxMessage, OutboxStatus  # noqa: F401  (mail outbox, parents area)
from models.profminimum import ProfminimumFormat, ProfminimumLevels  # noqa: F401  (issue #14)
from models.registration import (
    LIVE_TICKET_STATUSES,
    ParentSignup,
    Registration,
    RegistrationStatus,
    Ticket,
    TicketKind,
    TicketStatus,
)
from models.report_changes import ReportChange  # noqa: F401  (kept reports' counters)
from models.roster import Student, Teacher
from models.scan import AttendanceImport, Scan, ScannerLink, ScanOutcome, ScanSource, WalkIn
from models.target import TARGET_KEYS, Target
from models.teacher_signup import TeacherSignup, TeacherSignupStatus  # noqa: F401  (parents area)
from models.user import ApiToken, LoginThrottle, Role, User

__all__ = [
    "ApiToken", "Audience", "AuditLog", "Baseline", "Category", "CityPlan", "Event",
    "EventStaff", "EventStatus", "LIVE_TICKET_STATUSES", "LoginThrottle", "OrgKind", "Organization",
    "ParentSignup",
    "Registration", "RegistrationStatus", "RoadmapItem", "Role", "Scan", "ScanOutcome",
    "AttendanceImport", "ScanSource",
    "ScannerLink", "Student", "TARGET_KEYS", "Target", "Teacher", "Ticket", "TicketKind",
    "TicketStatus", "User", "WalkIn",
    "db", "folded", "now_utc", "record_audit",
]
