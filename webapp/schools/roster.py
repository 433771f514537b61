"""A school's roster of students and teachers: adding, editing, importing and promoting.

Services take plain arguments, flush but never commit, and raise ``ServiceError`` (imports raise
``ImportProblems`` listing every problem with its row number; nothing is written then).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa

from errors import ConflictError, ServiceError
from formats.class_names import (
    ClassNameError,
    class_sort_key,
    next_class,
    normalize_class,
    normalize_group,
)
from formats.person_names import NAME_RULE, person_name_error
from formats.spreadsheets import Column, ProblemCollector, read_table
from formats.text import fold
from formats.timefmt import format_date
from models import AuditLog, Organization, OrgKind, Student, Teacher, db, now_utc, record_audit

STUDENT_COLUMNS = [
    Column("last_name", "Фамилия"),
    Column("first_name", "Имя"),
    Column("middle_name", "Отчество", required=False),
    Column("class_name", "Класс"),
    Column("ovz", "ОВЗ", required=False),
    Column("external_id", "Идентификатор", required=False),
]
TEACHER_COLUMNS = [
    Column("last_name", "Фамилия"),
    Column("first_name", "Имя"),
    Column("middle_name", "Отчество", required=False),
    Column("email", "Эл. почта", required=False),
]
STUDENT_TEMPLATE_EXAMPLES = [
    ["Иванов", "Пётр", "Сергеевич", "7Б", "нет", "12345"],
    ["Смирнова", "Анна", "", "7Б", "да", ""],
]
#: A field's column title, for messages about it (the same in the forms and the files).
FIELD_TITLES = {c.key: c.header for c in STUDENT_COLUMNS + TEACHER_COLUMNS}
TEACHER_TEMPLATE_EXAMPLES = [["Петрова", "Анна", "Сергеевна", "petrova@school7.tomsk.ru"]]

TRUE_WORDS = {"да", "д", "1", "+", "true", "yes", "y", "овз", "есть", "истина"}
FALSE_WORDS = {"нет", "н", "0", "-", "false", "no", "n", "ложь"}
NAME_MAX = 100
#: A second promotion within this time is refused (a double click must not skip a year).
PROMOTION_GUARD = timedelta(days=120)


def _clean(value) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def parse_ovz(value) -> bool:
    if isinstance(value, bool):
        return value
    text = (_clean(value) or "").lower()
    if not text or text in FALSE_WORDS:
        return False
    if text in TRUE_WORDS:
        return True
    raise ValueError(f"«{value}» — напишите «да» или «нет» (или оставьте пустым).")


def normalize_class_for(organization: Organization, value) -> tuple[str, int]:
    if organization.kind == OrgKind.PRESCHOOL:
        return normalize_group(value)
    return normalize_class(value)


def _name_problem(value: str | None, required: bool) -> str | None:
    """What is wrong with a name cell; the caller names the field (``FIELD_TITLES``)."""
    if not value:
        return "не заполнено." if required else None
    if len(value) > NAME_MAX:
        return f"длиннее {NAME_MAX} символов."
    return f"{NAME_RULE}." if person_name_error(value) else None


def _email_problem(value: str | None) -> str | None:
    if value and ("@" not in value or " " in value or len(value) > 254
                  or value.startswith("@") or value.endswith("@")):
        return f"«{value}» не похоже на адрес электронной почты."
    return None


@dataclass
class StudentData:
    last_name: str
    first_name: str
    middle_name: str | None
    class_name: str
    grade: int
    ovz: bool
    external_id: str | None


@dataclass
class TeacherData:
    last_name: str
    first_name: str
    middle_name: str | None
    email: str | None


def check_student(organization: Organization, *, last_name, first_name, middle_name=None,
                  class_name, ovz=False, external_id=None) -> tuple[StudentData | None,
                                                                     dict[str, str]]:
    """Validate and normalize one student's data; returns (data, {field: problem})."""
    problems: dict[str, str] = {}
    last_name, first_name, middle_name = _clean(last_name), _clean(first_name), _clean(middle_name)
    external_id = _clean(external_id)
    for key, value, required in (("last_name", last_name, True), ("first_name", first_name, True),
                                 ("middle_name", middle_name, False)):
        problem = _name_problem(value, required)
        if problem:
            problems[key] = problem
    try:
        normalized, grade = normalize_class_for(organization, class_name)
    except ClassNameError as err:
        problems["class_name"] = str(err)
        normalized, grade = None, None
    try:
        ovz_flag = parse_ovz(ovz)
    except ValueError as err:
        problems["ovz"] = str(err)
        ovz_flag = False
    if external_id and len(external_id) > 64:
        problems["external_id"] = "длиннее 64 символов."
    if problems:
        return None, problems
    return StudentData(last_name, first_name, middle_name, normalized, grade, ovz_flag,
                       external_id), {}


def check_teacher(*, last_name, first_name, middle_name=None, email=None) -> tuple[
        TeacherData | None, dict[str, str]]:
    problems: dict[str, str] = {}
    last_name, first_name, middle_name = _clean(last_name), _clean(first_name), _clean(middle_name)
    email = (_clean(email) or "").lower() or None
    for key, value, required in (("last_name", last_name, True), ("first_name", first_name, True),
                                 ("middle_name", middle_name, False)):
        problem = _name_problem(value, required)
        if problem:
            problems[key] = problem
    problem = _email_problem(email)
    if problem:
        problems["email"] = problem
    if problems:
        return None, problems
    return TeacherData(last_name, first_name, middle_name, email), {}


def _first_problem_error(problems: dict[str, str]) -> ServiceError:
    message = " ".join(f"{FIELD_TITLES.get(k, k)}: {m}" for k, m in problems.items())
    return ServiceError("validation_error", message,
                        fields={k: v[:1].upper() + v[1:] for k, v in problems.items()})


# ---------------------------------------------------------------------------------------------
# One person at a time (the coordinator's forms)


def _external_id_taken(organization_id: int, external_id: str | None, except_id=None) -> bool:
    if not external_id:
        return False
    query = Student.query.filter(Student.organization_id == organization_id,
                                 Student.external_id == external_id)
    if except_id is not None:
        query = query.filter(Student.id != except_id)
    return db.session.query(query.exists()).scalar()


def save_student(actor, organization: Organization, student: Student | None = None,
                 **values) -> Student:
    """Create (``student=None``) or update a student of ``organization``."""
    data, problems = check_student(organization, **values)
    if problems:
        raise _first_problem_error(problems)
    if _external_id_taken(organization.id, data.external_id,
                          except_id=student.id if student else None):
        raise ConflictError("duplicate_external_id",
                            f"Идентификатор «{data.external_id}» уже есть у другого ученика "
                            "школы.", field="external_id")
    creating = student is None
    if creating:
        student = Student(organization_id=organization.id, active=True)
        db.session.add(student)
    for name in ("last_name", "first_name", "middle_name", "class_name", "grade", "ovz",
                 "external_id"):
        setattr(student, name, getattr(data, name))
    db.session.flush()
    record_audit(actor, "student.create" if creating else "student.update", student)
    return student


def save_teacher(actor, organization: Organization, teacher: Teacher | None = None,
                 **values) -> Teacher:
    data, problems = check_teacher(**values)
    if problems:
        raise _first_problem_error(problems)
    creating = teacher is None
    if creating:
        teacher = Teacher(organization_id=organization.id, active=True)
        db.session.add(teacher)
    for name in ("last_name", "first_name", "middle_name", "email"):
        setattr(teacher, name, getattr(data, name))
    db.session.flush()
    record_audit(actor, "teacher.create" if creating else "teacher.update", teacher)
    return teacher


def set_active(actor, person: Student | Teacher, active: bool) -> None:
    person.active = active
    db.session.flush()
    kind = "student" if isinstance(person, Student) else "teacher"
    record_audit(actor, f"{kind}.{'activate' if active else 'deactivate'}", person)


# ---------------------------------------------------------------------------------------------
# Imports (all or nothing)


@dataclass
class ImportResult:
    created: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    #: Everyone in the order of the input rows.
    ordered: list = field(default_factory=list)

    @property
    def people(self) -> list:
        return self.created + self.updated + self.unchanged

    def summary(self) -> str:
        return (f"Добавлено: {len(self.created)}, обновлено: {len(self.updated)}, "
                f"без изменений: {len(self.unchanged)}.")


def name_key(last_name, first_name, middle_name) -> tuple:
    """A person's full name as the roster import compares it (folded: case, ё, spaces)."""
    return tuple(fold(p) for p in (last_name, first_name, middle_name))


def upsert_students(actor, organization: Organization,
                    items: list[tuple[int | str | None, dict]],
                    collector: ProblemCollector | None = None,
                    refused: dict | None = None) -> ImportResult:
    """Create or update students from ``(row_label, values)`` pairs, all or nothing.

    An existing student is matched by external id, else by exact full name and class;
    matched people are updated (and reactivated) instead of duplicated.
    Raises ``ImportProblems`` (``problems`` = ``[(row_label, message)]``) when anything is wrong:
    every problem of every row at once, added to ``collector`` (problems the file's reading
    found, with ``refused`` = ``{row_label: keys of cells already reported}``).
    """
    collector = collector if collector is not None else ProblemCollector()
    checked = _check_all(items, lambda values: check_student(organization, **values),
                         collector, refused or {})

    existing = Student.query.filter(Student.organization_id == organization.id,
                                    Student.anonymized_at.is_(None)).all()
    by_external = {s.external_id: s for s in existing if s.external_id}
    by_name: dict[tuple, list[Student]] = {}
    for s in existing:
        by_name.setdefault(name_key(s.last_name, s.first_name, s.middle_name)
                           + (s.class_name,), []).append(s)

    seen_external: dict[str, object] = {}
    seen_name: dict[tuple, object] = {}
    plan: list[tuple[Student | None, StudentData]] = []
    matched_ids: dict[int, object] = {}
    for label, data in checked:
        key = name_key(data.last_name, data.first_name, data.middle_name) + (data.class_name,)
        if data.external_id:
            if data.external_id in seen_external:
                collector.add(label, f"«{data.external_id}» уже встречался в строке "
                              f"{seen_external[data.external_id]}.", column="Идентификатор")
                continue
            seen_external[data.external_id] = label
        elif key in seen_name:
            collector.add(label, f"{data.last_name} {data.first_name} ({data.class_name}) уже "
                          f"встречается в строке {seen_name[key]}; если это разные ученики, "
                          "укажите идентификаторы.")
            continue
        seen_name.setdefault(key, label)
        match = None
        if data.external_id and data.external_id in by_external:
            match = by_external[data.external_id]
        else:
            candidates = [s for s in by_name.get(key, [])
                          if not data.external_id or not s.external_id]
            if len(candidates) > 1:
                collector.add(label, f"в списке школы несколько учеников «{data.last_name} "
                              f"{data.first_name}» в {data.class_name}; укажите идентификатор.")
                continue
            match = candidates[0] if candidates else None
        if match is not None:
            if match.id in matched_ids:
                collector.add(label, f"эта строка и строка {matched_ids[match.id]} относятся "
                              "к одному и тому же ученику.")
                continue
            matched_ids[match.id] = label
        plan.append((match, data))
    collector.raise_if_any()

    result = ImportResult()
    for student, data in plan:
        if student is None:
            student = Student(organization_id=organization.id, active=True)
            db.session.add(student)
            bucket = result.created
        else:
            before = (student.last_name, student.first_name, student.middle_name,
                      student.class_name, student.grade, student.ovz, student.external_id,
                      student.active)
            bucket = None
        external_id = data.external_id or student.external_id
        student.last_name, student.first_name = data.last_name, data.first_name
        student.middle_name = data.middle_name
        student.class_name, student.grade, student.ovz = data.class_name, data.grade, data.ovz
        student.external_id = external_id
        student.active = True
        if bucket is None:
            after = (student.last_name, student.first_name, student.middle_name,
                     student.class_name, student.grade, student.ovz, student.external_id,
                     student.active)
            bucket = result.unchanged if after == before else result.updated
        bucket.append(student)
        result.ordered.append(student)
    db.session.flush()
    record_audit(actor, "roster.import_students", organization, created=len(result.created),
                 updated=len(result.updated), unchanged=len(result.unchanged))
    return result


def _check_all(items, check, collector: ProblemCollector, refused: dict) -> list[tuple]:
    """Check every row with ``check(values) -> (data, problems)``, one problem per cell into
    ``collector``; returns ``[(label, data)]`` of the rows without any, which the caller checks
    against each other and the roster before raising everything at once."""
    checked = []
    for label, values in items:
        data, problems = check(values)
        taken = refused.get(label, frozenset())
        for key, message in problems.items():
            if key not in taken:
                collector.add(label, message, column=FIELD_TITLES.get(key))
        if data and not taken:
            checked.append((label, data))
    return checked


def upsert_teachers(actor, organization: Organization,
                    items: list[tuple[int | str | None, dict]],
                    collector: ProblemCollector | None = None,
                    refused: dict | None = None) -> ImportResult:
    """Create or update teachers, matched by e-mail, else by exact full name; all or nothing
    (every problem at once, as :func:`upsert_students`)."""
    collector = collector if collector is not None else ProblemCollector()
    checked = _check_all(items, lambda values: check_teacher(**values), collector,
                         refused or {})
    existing = Teacher.query.filter(Teacher.organization_id == organization.id,
                                    Teacher.anonymized_at.is_(None)).all()
    by_email = {t.email: t for t in existing if t.email}
    by_name: dict[tuple, list[Teacher]] = {}
    for t in existing:
        by_name.setdefault(name_key(t.last_name, t.first_name, t.middle_name), []).append(t)
    plan = []
    seen: dict[tuple, object] = {}
    for label, data in checked:
        key = name_key(data.last_name, data.first_name, data.middle_name)
        seen_key = ("email", data.email) if data.email else ("name",) + key
        if seen_key in seen:
            collector.add(label, f"{data.last_name} {data.first_name} уже встречается в строке "
                          f"{seen[seen_key]}.")
            continue
        seen[seen_key] = label
        match = by_email.get(data.email) if data.email else None
        if match is None:
            candidates = by_name.get(key, [])
            if len(candidates) > 1:
                collector.add(label, f"в списке школы несколько педагогов «{data.last_name} "
                              f"{data.first_name}»; укажите эл. почту.")
                continue
            match = candidates[0] if candidates else None
        plan.append((match, data))
    collector.raise_if_any()
    result = ImportResult()
    for teacher, data in plan:
        if teacher is None:
            teacher = Teacher(organization_id=organization.id, active=True)
            db.session.add(teacher)
            bucket = result.created
            before = None
        else:
            before = (teacher.last_name, teacher.first_name, teacher.middle_name, teacher.email,
                      teacher.active)
        teacher.last_name, teacher.first_name = data.last_name, data.first_name
        teacher.middle_name = data.middle_name
        teacher.email = data.email or teacher.email
        teacher.active = True
        if before is not None:
            after = (teacher.last_name, teacher.first_name, teacher.middle_name, teacher.email,
                     teacher.active)
            bucket = result.unchanged if after == before else result.updated
        bucket.append(teacher)
        result.ordered.append(teacher)
    db.session.flush()
    record_audit(actor, "roster.import_teachers", organization, created=len(result.created),
                 updated=len(result.updated), unchanged=len(result.unchanged))
    return result


def import_students_file(actor, organization: Organization, filename: str,
                         data: bytes) -> ImportResult:
    problems = ProblemCollector()
    rows = read_table(filename, data, STUDENT_COLUMNS, problems)
    return upsert_students(actor, organization, [(row.number, row.values) for row in rows],
                           problems, {row.number: row.refused for row in rows if row.refused})


def import_teachers_file(actor, organization: Organization, filename: str,
                         data: bytes) -> ImportResult:
    problems = ProblemCollector()
    rows = read_table(filename, data, TEACHER_COLUMNS, problems)
    return upsert_teachers(actor, organization, [(row.number, row.values) for row in rows],
                           problems, {row.number: row.refused for row in rows if row.refused})


# ---------------------------------------------------------------------------------------------
# Promotion at the end of the year


@dataclass
class PromotionPlan:
    moves: list[tuple[str, str, int]]  #: (from class, to class, students)
    leaving: list[tuple[str, int]]  #: (11th class, students)

    @property
    def total(self) -> int:
        return sum(n for _a, _b, n in self.moves) + sum(n for _c, n in self.leaving)


def promotion_plan(organization: Organization) -> PromotionPlan:
    rows = db.session.execute(
        sa.select(Student.class_name, Student.grade, sa.func.count(Student.id))
        .where(Student.organization_id == organization.id, Student.active.is_(True),
               Student.grade >= 1)
        .group_by(Student.class_name, Student.grade)
    ).all()

    moves, leaving = [], []
    for class_name, grade, count in sorted(rows, key=lambda r: class_sort_key(r[0])):
        target = next_class(class_name, grade)
        if target is None:
            leaving.append((class_name, count))
        else:
            moves.append((class_name, target[0], count))
    return PromotionPlan(moves, leaving)


def last_promotion(organization: Organization):
    return (AuditLog.query.filter_by(action="roster.promote", object_type="organizations",
                                     object_id=str(organization.id))
            .order_by(AuditLog.at.desc()).first())


def promote_classes(actor, organization: Organization) -> PromotionPlan:
    """Move every active student up a class; 11th graders leave (deactivated). Once a season."""
    if organization.kind != OrgKind.SCHOOL:
        raise ServiceError("not_a_school", "Перевод в следующий класс — только для школ.")
    previous = last_promotion(organization)
    if previous is not None and now_utc() - previous.at < PROMOTION_GUARD:
        raise ConflictError("already_promoted",
                            f"Классы уже переведены {format_date(previous.at)}. "
                            "Повторный перевод возможен не раньше чем через 120 дней.")
    plan = promotion_plan(organization)
    if plan.total == 0:
        raise ServiceError("nothing_to_promote", "В списке нет учеников: переводить некого.")
    students = Student.query.filter(Student.organization_id == organization.id,
                                    Student.active.is_(True), Student.grade >= 1).all()
    for student in students:
        target = next_class(student.class_name, student.grade)
        if target is None:
            student.active = False
        else:
            student.class_name, student.grade = target
    db.session.flush()
    record_audit(actor, "roster.promote", organization,
                 moved=sum(n for _a, _b, n in plan.moves),
                 left=sum(n for _c, n in plan.leaving))
    return plan
