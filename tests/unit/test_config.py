import sys

import pytest

from netra.config import Environment, SettingsError, load_settings, prepare_data_dir


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    for name in list(__import__("os").environ):
        if name.startswith("NETRA_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults_need_no_configuration(tmp_path):
    settings = load_settings()
    assert settings.env is Environment.development
    assert settings.sqlalchemy_url.startswith("sqlite+aiosqlite:///")
    assert settings.redis_url is None
    assert settings.max_runs_per_user == 3


def test_a_bad_value_names_its_variable(monkeypatch):
    monkeypatch.setenv("NETRA_PORT", "eighty")
    with pytest.raises(SettingsError, match=r"^NETRA_PORT: "):
        load_settings()


def test_an_unknown_database_driver_is_refused(monkeypatch):
    monkeypatch.setenv("NETRA_DATABASE_URL", "mysql://x")
    with pytest.raises(SettingsError, match="NETRA_DATABASE_URL"):
        load_settings()


@pytest.mark.parametrize("url", ["/srv/datasets", "gs://bucket", "s3://", "s3://Bucket_1/x"])
def test_a_storage_url_that_is_no_s3_bucket_is_refused(monkeypatch, url):
    monkeypatch.setenv("NETRA_STORAGE_URL", url)
    with pytest.raises(SettingsError, match=r"^NETRA_STORAGE_URL: must be s3://bucket"):
        load_settings()


@pytest.mark.parametrize("url", ["s3://netra-data", "s3://netra.data/team/datasets/"])
def test_an_s3_storage_url_is_accepted(monkeypatch, url):
    monkeypatch.setenv("NETRA_STORAGE_URL", url)
    assert load_settings().storage_url == url


def test_a_storage_url_without_the_s3_extra_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "boto3", None)  # as if boto3 were not installed
    monkeypatch.setenv("NETRA_STORAGE_URL", "s3://netra-data")
    with pytest.raises(SettingsError, match=r"NETRA_STORAGE_URL: .*pip install 'netra-apex\[s3\]'"):
        load_settings()


def test_production_requires_a_signing_secret(monkeypatch):
    monkeypatch.setenv("NETRA_ENV", "production")
    with pytest.raises(SettingsError, match="NETRA_JWT_SECRET"):
        load_settings()
    monkeypatch.setenv("NETRA_JWT_SECRET", "s" * 40)
    assert load_settings().env is Environment.production


def test_the_development_key_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("NETRA_DATA_DIR", str(tmp_path / "data"))
    first = prepare_data_dir(load_settings())
    second = prepare_data_dir(load_settings())
    assert first.signing_key() == second.signing_key()
    assert (tmp_path / "data" / "jwt_secret").stat().st_mode & 0o077 == 0


def test_a_dotenv_file_is_read(tmp_path):
    (tmp_path / ".env").write_text("NETRA_MAX_RUNS_PER_USER=5\n")
    assert load_settings().max_runs_per_user == 5
