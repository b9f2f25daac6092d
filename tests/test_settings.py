"""One typed settings object, from env vars, a .env file and keyword arguments."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from shopbot.settings import Settings


def test_defaults_keep_all_state_under_the_data_dir(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for key in [k for k in __import__("os").environ if k.startswith("SHOPBOT_")]:
        monkeypatch.delenv(key)
    settings = Settings()
    assert settings.data_dir == Path("data")
    assert settings.chroma_path == Path("data") / "chroma"
    assert not settings.uses_chroma_server
    assert settings.max_file_bytes == 50 * 1024 * 1024
    assert settings.embedding_model == "all-MiniLM-L6-v2"


def test_environment_and_dotenv(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        "SHOPBOT_CHROMA_HOST=chroma.internal\nSHOPBOT_CHROMA_PORT=9000\nSHOPBOT_MAX_FILE_MB=5\n"
    )
    monkeypatch.setenv("SHOPBOT_CHROMA_PORT", "9100")  # the environment beats .env
    monkeypatch.setenv("SHOPBOT_DATA_DIR", str(tmp_path / "state"))
    settings = Settings()
    assert settings.uses_chroma_server
    assert (settings.chroma_host, settings.chroma_port) == ("chroma.internal", 9100)
    assert settings.max_file_bytes == 5 * 1024 * 1024
    assert settings.chroma_path == tmp_path / "state" / "chroma"
    # keyword arguments beat both
    assert Settings(chroma_host="").chroma_host is None


def test_bad_values_are_rejected_with_the_field_name(monkeypatch):
    monkeypatch.setenv("SHOPBOT_CHROMA_PORT", "not-a-port")
    with pytest.raises(ValidationError, match="chroma_port"):
        Settings(_env_file=None)
    with pytest.raises(ValidationError, match="chroma_collection"):
        Settings(_env_file=None, chroma_port=8000, chroma_collection="ab")


def test_readme_documents_every_setting():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    rows = [line for line in readme.splitlines() if line.startswith("| `")]
    for name in Settings.model_fields:
        variable = f"`SHOPBOT_{name.upper()}`"
        assert any(variable in row for row in rows), f"README's settings table misses {variable}"
