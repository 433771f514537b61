"""Coordinator pages: students and teachers of the school, imports, year-end promotion."""

from __future__ import annotations

import io

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, send_file
from flask_login import current_user
from openpyxl import Workbook

from errors import ServiceError
from formats.class_names import class_sort_key
from formats.spreadsheets import ImportProblems, append_row, csv_bytes, xlsx_template
from formats.text import like_contains, natural_key
from models import Organization, OrgKind, Role, Student, Teacher, db, folded
from models.organization import EDUCATIONAL_KINDS
from models.roster import person_sort_key
from webapp.access import roles_required
from webapp.forms import EmptyForm, apply_service_error
from webapp.input_guard import safe_next_url
from webapp.paging import Paging, page_arg
from webapp.schools import bp
from webapp.schools.context import current_school, school_url
from webapp.schools.forms import (
    AnonymizePersonForm,
    ImportForm,
    PromoteForm,
    StudentForm,
    TeacherForm,
)
from webapp.schools.roster import (
    STUDENT_COLUMNS,
    STUDENT_TEMPLATE_EXAMPLES,
    TEACHER_COLUMNS,
    TEACHER_TEMPLATE_EXAMPLES,
    import_students_file,
    import_teachers_file,
    last_promotion,
    promote_classes,
    promotion_plan,
    save_student,
    save_teacher,
    set_active,
)
from webapp.services.personal_data import anonymize_person, record_personal_export
from webapp.transaction import unit_of_work

coordinator_pages = roles_required(Role.COORDINATOR, Role.ADMIN)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.before_request
def choose_school_for_admin():
    """Admins open a school's pages with ``?org=<id>``; without it they pick the school."""
    if ((request.path.startswith("/school/")
         or request.endpoint == "schools.register_group_page") and current_user.is_authenticated
            and current_user.role == Role.ADMIN and request.args.get("org") is None
            and request.method == "GET"):
        q = (request.args.get("q") or "").strip()
        query = Organization.query.filter(Organization.kind.in_(EDUCATIONAL_KINDS),
                                          Organization.active.is_(True))
        if q:
            query = query.filter(Organization.name_key.like(like_contains(q), escape="\\"))
        schools = sorted(query.all(), key=lambda o: natural_key(o.name))
        return render_template("schools/choose_school.html", schools=schools, q=q,
                               endpoint=request.endpoint, view_args=request.view_args or {})
    return None


@bp.app_context_processor
def inject_school_helpers():
    return {"school_url": school_url}


def _get_student(school: Organization, student_id: int) -> Student:
    student = db.session.get(Student, student_id)
    if student is None or student.organization_id != school.id or student.anonymized_at:
        abort(404)
    return student


def _get_teacher(school: Organization, teacher_id: int) -> Teacher:
    teacher = db.session.get(Teacher, teacher_id)
    if teacher is None or teacher.organization_id != school.id or teacher.anonymized_at:
        abort(404)
    return teacher


# ---------------------------------------------------------------------------------------------
# Students


def _class_counts(school: Organization) -> list[tuple[str, int]]:
    rows = db.session.execute(
        sa.select(Student.class_name, sa.func.count(Student.id))
        .where(Student.organization_id == school.id, Student.active.is_(True),
               Student.anonymized_at.is_(None))
        .group_by(Student.class_name)).all()
    return sorted(((c, n) for c, n in rows), key=lambda r: class_sort_key(r[0]))


#: Rows of the roster page: a school of 3,000 students stays quick to load and scroll on a phone.
STUDENTS_PER_PAGE = 100


@bp.get("/school/students")
@coordinator_pages
def students():
    school = current_school()
    class_filter = (request.args.get("class") or "").strip()
    status = request.args.get("status", "active")
    q = (request.args.get("q") or "").strip()
    where = [Student.organization_id == school.id, Student.anonymized_at.is_(None)]
    if status == "inactive":
        where.append(Student.active.is_(False))
    elif status != "all":
        status = "active"
        where.append(Student.active.is_(True))
    if class_filter:
        where.append(Student.class_name == class_filter)
    if q:
        where.append(folded(Student.last_name).like(like_contains(q), escape="\\"))
    # Order (class, then name as people read it) is decided in Python on light rows; only the
    # page shown is loaded as objects.
    rows = db.session.execute(
        sa.select(Student.id, Student.class_name, Student.last_name, Student.first_name,
                  Student.middle_name).where(*where)).all()
    rows.sort(key=lambda r: (class_sort_key(r.class_name),
                             person_sort_key(r.last_name, r.first_name, r.middle_name), r.id))
    paging = Paging(page=page_arg(), per_page=STUDENTS_PER_PAGE, total=len(rows))
    page_ids = [r.id for r in paging.slice(rows)]
    by_id = {s.id: s for s in db.session.execute(
        sa.select(Student).where(Student.id.in_(page_ids))).scalars()} if page_ids else {}
    people = [by_id[i] for i in page_ids]
    args = {k: v for k, v in (("class", class_filter), ("status", status), ("q", q)) if v}
    if current_user.role == Role.ADMIN:
        args["org"] = school.id
    return render_template("schools/students.html", school=school, people=people,
                           paging=paging, page_args=args,
                           classes=_class_counts(school), class_filter=class_filter,
                           status=status, q=q, is_preschool=school.kind == OrgKind.PRESCHOOL), \
        404 if paging.past_end else 200


@bp.route("/school/students/new", methods=["GET", "POST"])
@coordinator_pages
def student_new():
    school = current_school()
    form = StudentForm()
    if not form.is_submitted() and request.args.get("class"):
        form.class_name.data = request.args["class"]
    if form.validate_on_submit():
        with unit_of_work(form) as uow:
            student = save_student(current_user, school, **_student_values(form))
        if uow.ok:
            flash(f"Ученик {student.full_name} ({student.class_name}) добавлен.", "success")
            back = safe_next_url(request.args.get("next"))
            if back:
                return redirect(back, 303)
            if request.form.get("again"):
                return redirect(school_url("schools.student_new", school,
                                           **{"class": student.class_name}), 303)
            return redirect(school_url("schools.students", school,
                                       **{"class": student.class_name}), 303)
    return render_template("schools/student_form.html", school=school, form=form, student=None,
                           is_preschool=school.kind == OrgKind.PRESCHOOL)


def _student_values(form: StudentForm) -> dict:
    return {"last_name": form.last_name.data, "first_name": form.first_name.data,
            "middle_name": form.middle_name.data, "class_name": form.class_name.data,
            "ovz": bool(form.ovz.data), "external_id": form.external_id.data}


@bp.route("/school/students/<int:student_id>/edit", methods=["GET", "POST"])
@coordinator_pages
def student_edit(student_id: int):
    school = current_school()
    student = _get_student(school, student_id)
    form = StudentForm(obj=student)
    if form.validate_on_submit():
        with unit_of_work(form) as uow:
            save_student(current_user, school, student, **_student_values(form))
        if uow.ok:
            flash(f"Данные ученика {student.full_name} сохранены.", "success")
            return redirect(school_url("schools.students", school,
                                       **{"class": student.class_name}), 303)
    return render_template("schools/student_form.html", school=school, form=form,
                           student=student, is_preschool=school.kind == OrgKind.PRESCHOOL)


@bp.post("/school/students/<int:student_id>/deactivate")
@coordinator_pages
def student_deactivate(student_id: int):
    return _toggle_student(student_id, False)


@bp.post("/school/students/<int:student_id>/activate")
@coordinator_pages
def student_activate(student_id: int):
    return _toggle_student(student_id, True)


def _toggle_student(student_id: int, active: bool):
    school = current_school()
    student = _get_student(school, student_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    with unit_of_work():
        set_active(current_user, student, active)
    flash(f"{student.full_name} ({student.class_name}): "
          + ("снова в списке школы." if active else "исключён(а) из списка школы."), "success")
    return redirect(school_url("schools.students", school,
                               **{"class": student.class_name}), 303)


@bp.get("/school/students/template.xlsx")
@coordinator_pages
def students_template_xlsx():
    current_school()
    data = xlsx_template(STUDENT_COLUMNS, STUDENT_TEMPLATE_EXAMPLES, sheet_title="Ученики")
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True,
                     download_name="шаблон-ученики.xlsx")


@bp.get("/school/students/template.csv")
@coordinator_pages
def students_template_csv():
    current_school()
    data = csv_bytes([c.header for c in STUDENT_COLUMNS], STUDENT_TEMPLATE_EXAMPLES)
    return send_file(io.BytesIO(data), mimetype="text/csv", as_attachment=True,
                     download_name="шаблон-ученики.csv")


@bp.get("/school/students.xlsx")
@coordinator_pages
def students_export():
    """The school's own roster as a workbook in the import template's columns."""
    school = current_school()
    people = Student.query.filter(Student.organization_id == school.id,
                                  Student.active.is_(True),
                                  Student.anonymized_at.is_(None)).all()
    people.sort(key=lambda s: (class_sort_key(s.class_name), s.sort_key))
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Ученики"
    append_row(sheet, [c.header for c in STUDENT_COLUMNS])
    for s in people:
        append_row(sheet, [s.last_name, s.first_name, s.middle_name or "", s.class_name,
                      "да" if s.ovz else "нет", s.external_id or ""])
    buffer = io.BytesIO()
    workbook.save(buffer)
    with unit_of_work():
        record_personal_export(current_user, "roster_students", school, rows=len(people),
                               format="xlsx")
    return send_file(io.BytesIO(buffer.getvalue()), mimetype=XLSX, as_attachment=True,
                     download_name="ученики.xlsx")


@bp.route("/school/students/import", methods=["GET", "POST"])
@coordinator_pages
def students_import():
    school = current_school()
    return _import_page(school, "students", import_students_file, STUDENT_COLUMNS,
                        "Список учеников загружен",
                        is_preschool=school.kind == OrgKind.PRESCHOOL)


def _import_page(school, kind: str, import_file, columns, done_message: str,
                 is_preschool: bool):
    """The upload page of a roster import: all or nothing, row-numbered problems shown."""
    form = ImportForm()
    problems = None
    if form.validate_on_submit():
        upload = form.file.data
        with unit_of_work(catch=ImportProblems) as uow:
            result = import_file(current_user, school, upload.filename or "", upload.read())
        if uow.error is not None:
            problems = uow.error
        else:
            flash(f"{done_message} — {school.name}. {result.summary()}", "success")
            return redirect(school_url(f"schools.{kind}", school), 303)
    return render_template("schools/import.html", school=school, form=form, problems=problems,
                           kind=kind, columns=columns, is_preschool=is_preschool)


@bp.route("/school/students/promote", methods=["GET", "POST"])
@coordinator_pages
def students_promote():
    school = current_school()
    if school.kind != OrgKind.SCHOOL:
        abort(404)
    form = PromoteForm()
    if form.validate_on_submit():
        with unit_of_work(catch=ServiceError) as uow:
            plan = promote_classes(current_user, school)
        if uow.error is not None:
            err = uow.error
            form.form_errors.append(err.message)
        else:
            moved = sum(n for _a, _b, n in plan.moves)
            left = sum(n for _c, n in plan.leaving)
            flash(f"Классы переведены: {moved} учеников перешли в следующий класс, "
                  f"{left} выпускников исключены из списка.", "success")
            return redirect(school_url("schools.students", school), 303)
    return render_template("schools/promote.html", school=school, form=form,
                           plan=promotion_plan(school), last=last_promotion(school))


# ---------------------------------------------------------------------------------------------
# Teachers


@bp.get("/school/teachers")
@coordinator_pages
def teachers():
    school = current_school()
    status = request.args.get("status", "active")
    query = Teacher.query.filter(Teacher.organization_id == school.id,
                                 Teacher.anonymized_at.is_(None))
    if status == "inactive":
        query = query.filter(Teacher.active.is_(False))
    elif status != "all":
        status = "active"
        query = query.filter(Teacher.active.is_(True))
    people = sorted(query.all(), key=lambda t: t.sort_key)
    return render_template("schools/teachers.html", school=school, people=people, status=status)


def _teacher_values(form: TeacherForm) -> dict:
    return {"last_name": form.last_name.data, "first_name": form.first_name.data,
            "middle_name": form.middle_name.data, "email": form.email.data}


@bp.route("/school/teachers/new", methods=["GET", "POST"])
@coordinator_pages
def teacher_new():
    school = current_school()
    form = TeacherForm()
    if form.validate_on_submit():
        with unit_of_work(form) as uow:
            teacher = save_teacher(current_user, school, **_teacher_values(form))
        if uow.ok:
            flash(f"Педагог {teacher.full_name} добавлен(а).", "success")
            return redirect(school_url("schools.teachers", school), 303)
    return render_template("schools/teacher_form.html", school=school, form=form, teacher=None)


@bp.route("/school/teachers/<int:teacher_id>/edit", methods=["GET", "POST"])
@coordinator_pages
def teacher_edit(teacher_id: int):
    school = current_school()
    teacher = _get_teacher(school, teacher_id)
    form = TeacherForm(obj=teacher)
    if form.validate_on_submit():
        with unit_of_work(form) as uow:
            save_teacher(current_user, school, teacher, **_teacher_values(form))
        if uow.ok:
            flash(f"Данные педагога {teacher.full_name} сохранены.", "success")
            return redirect(school_url("schools.teachers", school), 303)
    return render_template("schools/teacher_form.html", school=school, form=form,
                           teacher=teacher)


@bp.post("/school/teachers/<int:teacher_id>/deactivate")
@coordinator_pages
def teacher_deactivate(teacher_id: int):
    return _toggle_teacher(teacher_id, False)


@bp.post("/school/teachers/<int:teacher_id>/activate")
@coordinator_pages
def teacher_activate(teacher_id: int):
    return _toggle_teacher(teacher_id, True)


def _toggle_teacher(teacher_id: int, active: bool):
    school = current_school()
    teacher = _get_teacher(school, teacher_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    with unit_of_work():
        set_active(current_user, teacher, active)
    flash(f"{teacher.full_name}: " + ("снова в списке школы." if active
                                      else "исключён(а) из списка школы."), "success")
    return redirect(school_url("schools.teachers", school), 303)


@bp.get("/school/teachers/template.xlsx")
@coordinator_pages
def teachers_template_xlsx():
    current_school()
    data = xlsx_template(TEACHER_COLUMNS, TEACHER_TEMPLATE_EXAMPLES, sheet_title="Педагоги")
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True,
                     download_name="шаблон-педагоги.xlsx")


@bp.route("/school/teachers/import", methods=["GET", "POST"])
@coordinator_pages
def teachers_import():
    return _import_page(current_school(), "teachers", import_teachers_file, TEACHER_COLUMNS,
                        "Список педагогов загружен", is_preschool=False)


# ---------------------------------------------------------------------------------------------
# Anonymizing one person (a parent's request, a student who left): confirmed, audited


@bp.route("/school/<any(students, teachers):kind>/<int:person_id>/anonymize",
          methods=["GET", "POST"])
@coordinator_pages
def person_anonymize(kind: str, person_id: int):
    school = current_school()
    person = (_get_student if kind == "students" else _get_teacher)(school, person_id)
    back = school_url(f"schools.{kind}", school)
    form = AnonymizePersonForm()
    status = 200
    if form.validate_on_submit():
        with unit_of_work(catch=ServiceError) as uow:
            anonymize_person(current_user, person)
        if uow.error is not None:
            err = uow.error
            apply_service_error(form, err)
            status = err.status
        else:
            flash("Данные обезличены: имя удалено, участие осталось в показателях без имени.",
                  "success")
            return redirect(back, 303)
    elif request.method == "POST":
        status = 422
    person = db.session.get(Student if kind == "students" else Teacher, person_id)
    return render_template("schools/anonymize.html", school=school, form=form, person=person,
                           kind=kind, back=back), status
