"""reference data: event categories of the order

Revision ID: 0002
Revises: 0001
"""
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
    ("school_internal", "Внутришкольные мероприятия («Россия — мои горизонты», профпробы, экскурсии)"),
    ("other", "Другое"),
]


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


def downgrade():
    op.execute(sa.text("DELETE FROM categories WHERE code IN ({})".format(
        ", ".join(f"'{code}'" for code, _ in CATEGORIES))))
