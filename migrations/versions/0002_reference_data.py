"""reference data: event categories and roadmap items (1.1–7.4) of the order

Revision ID: 0002
Revises: 0001
"""
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

CATEGORIES = [
    ("professionals", "«Профессионалы» / WorldSkills"),
    ("abilympics", "«Абилимпикс» (в т. ч. «Детский Абилимпикс»)"),
    ("university", "Мероприятия вузов (дни открытых дверей, профпробы)"),
    ("college", "Мероприятия колледжей (СПО)"),
    ("ticket_to_future", "«Билет в будущее»"),
    ("proektoria", "«ПроеКТОриЯ»"),
    ("digital_lesson", "«Урок цифры»"),
    ("technopark", "Детский технопарк, «Кванториум», «Территория интеллекта»"),
    ("cpc_program", "Городские программы ЦПК «ПрофГид» и «ТехноЛига»"),
    ("campaign", "Осенняя и весенняя профориентационные кампании"),
    ("parents", "Родительские собрания"),
    ("teacher_training", "Курсы повышения квалификации педагогов (КПК)"),
    ("coordinators", "Совещания профкоординаторов"),
    ("conference", "Конференция «Профориентация: маршрут из настоящего в успешное будущее»"),
    ("school_internal",
     "Внутришкольные мероприятия («Россия — мои горизонты», профпробы, экскурсии)"),
    ("other", "Другое"),
]


#: The order's «Дорожная карта» rows, kept in the repository (number, section, title).
ROADMAP_FILE = Path(__file__).resolve().parents[2] / "webapp" / "data" / "roadmap_items.tsv"


def roadmap_rows() -> list[dict]:
    rows = []
    for line in ROADMAP_FILE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        number, section, title = line.split("\t", 2)
        major, minor = number.split(".")
        rows.append({"number": number, "section": int(section), "title": title.strip(),
                     "sort_order": int(major) * 100 + int(minor)})
    return rows


def upgrade():
    categories = sa.table(
        "categories",
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("active", sa.Boolean),
        sa.column("sort_order", sa.Integer),
    )
    op.bulk_insert(categories, [
        {"code": code, "name": name, "active": True, "sort_order": (index + 1) * 10}
        for index, (code, name) in enumerate(CATEGORIES)
    ])
    roadmap_items = sa.table(
        "roadmap_items",
        sa.column("number", sa.String),
        sa.column("section", sa.Integer),
        sa.column("title", sa.Text),
        sa.column("sort_order", sa.Integer),
    )
    op.bulk_insert(roadmap_items, roadmap_rows())


def downgrade():
    op.execute(sa.text("DELETE FROM roadmap_items"))
    op.execute(sa.text("DELETE FROM categories WHERE code IN ({})".format(
        ", ".join(f"'{code}'" for code, _ in CATEGORIES))))
