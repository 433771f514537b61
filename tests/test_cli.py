import pytest

from models import ApiToken, Organization, Role, User
from models.user import hash_token


def test_users_create_prints_the_id_last(runner, db, factory):
    org = factory.create_org()
    db.session.commit()
    result = runner.invoke(args=["users", "create", "--email", "New@Test.local", "--password",
                                 "pw12345", "--role", "coordinator", "--org", str(org.id)])
    assert result.exit_code == 0, result.output
    user_id = int(result.output.strip().splitlines()[-1])
    user = db.session.get(User, user_id)
    assert user.email == "new@test.local" and user.role == Role.COORDINATOR
    assert user.check_password("pw12345")


def test_users_create_refuses_a_duplicate_email(runner, db, factory):
    factory.create_user(Role.ADMIN, email="dup@test.local")
    db.session.commit()
    result = runner.invoke(args=["users", "create", "--email", "DUP@test.local",
                                 "--password", "pw12345", "--role", "admin"])
    assert result.exit_code != 0
    assert "уже существует" in result.output


def test_tokens_create_prints_only_the_token(runner, db, factory, client):
    factory.create_user(Role.ADMIN, email="api@test.local")
    db.session.commit()
    result = runner.invoke(args=["tokens", "create", "--email", "api@test.local"])
    assert result.exit_code == 0
    token = result.output.strip()
    assert "\n" not in token
    assert ApiToken.query.filter_by(token_hash=hash_token(token)).count() == 1
    response = client.post("/api/v1/organizations", json={"name": "Новая школа",
                                                           "kind": "school"},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201


@pytest.mark.demo
def test_demo_loads_the_directory_and_logins(runner, db):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "admin@demo.local" in result.output
    for email in ("admin@demo.local", "organizer@demo.local", "school@demo.local"):
        user = User.query.filter_by(email=email).one()
        assert user.check_password("demo")
    assert Organization.query.filter(Organization.name.like("МАОУ СОШ №%")).count() >= 70
    for short in ("ИМЦ", "ЦПК", "ТГУ", "ТПУ", "ТУСУР", "ТГПУ", "СибГМУ", "ТГАСУ",
                  "ОГБОУ «ТТСТ»", "Детский технопарк", "«Кванториум»"):
        assert Organization.query.filter_by(short_name=short).count() == 1, short
    again = runner.invoke(args=["demo", "--if-empty"])
    assert again.exit_code == 0
    assert "не пуста" in again.output
