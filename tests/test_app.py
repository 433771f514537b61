import pytest

from webapp import ConfigurationError, create_app
from webapp.config import DEV_SECRET_KEY


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_an_unreachable_database(tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI":
                      f"sqlite:///{tmp_path}/missing/dir/db.sqlite"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unavailable"


@pytest.mark.parametrize("key", [DEV_SECRET_KEY, "short"])
def test_production_refuses_a_weak_secret_key(key):
    with pytest.raises(ConfigurationError):
        create_app({"ENV_NAME": "production", "SECRET_KEY": key,
                    "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_production_starts_with_a_real_secret_key():
    app = create_app({"ENV_NAME": "production", "SECRET_KEY": "x" * 48,
                      "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_passwords_are_hashed_with_scrypt_outside_tests(app):
    """The suite hashes with one cheap round (TestConfig); a real deployment keeps scrypt."""
    from models import User

    production = create_app({"ENV_NAME": "production", "SECRET_KEY": "x" * 48,
                             "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with production.app_context():
        user = User(email="a@b.c")
        user.set_password("long-enough-1")
    assert user.password_hash.startswith("scrypt:")
    assert user.check_password("long-enough-1")
    user.set_password("long-enough-1")  # under the test app
    assert user.password_hash.startswith("pbkdf2:sha256:1$")


def test_pages_are_russian_and_phone_ready(client):
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="ru">' in html
    assert 'name="viewport"' in html
    assert "Перейти к содержимому" in html  # skip link
    assert "cdn" not in html.lower()


def test_error_pages_are_russian(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Страница не найдена" in response.get_data(as_text=True)


def test_api_404_uses_the_json_error_shape(client):
    response = client.get("/api/v1/no-such-endpoint")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
