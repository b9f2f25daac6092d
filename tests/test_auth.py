"""Staff login: real bcrypt hashes, a throttle driven by a fake clock, and the real CLI."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
import threading
import tomllib

import pytest

from shopbot.auth import (
    LoginResult,
    LoginThrottle,
    StaffAuth,
    hash_password,
    verify_password,
)
from tests.conftest import ROOT, make_settings

PASSWORD = "correct horse battery"
FAST = 4  # bcrypt's lowest cost, so the tests stay quick; the CLI uses the default (12)


@pytest.fixture(scope="module")
def hashed() -> str:
    return hash_password(PASSWORD, rounds=FAST)


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# -- hashing -------------------------------------------------------------------------------


def test_a_hash_verifies_its_password_and_no_other(hashed):
    assert hashed.startswith("$2b$04$") and len(hashed) == 60
    assert PASSWORD not in hashed
    assert verify_password(PASSWORD, hashed)
    assert verify_password(PASSWORD, hashed.encode())
    assert not verify_password("correct horse battery!", hashed)
    assert not verify_password("Correct horse battery", hashed)
    assert not verify_password("", hashed)
    # Two hashes of one password differ (random salt) and both verify.
    again = hash_password(PASSWORD, rounds=FAST)
    assert again != hashed and verify_password(PASSWORD, again)


def test_the_default_cost_is_bcrypts_12_rounds():
    assert hash_password("twelve-rounds").startswith("$2b$12$")


def test_short_and_overlong_passwords_are_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="at least 8 characters"):
        hash_password("short7!")
    assert hash_password("exactly8", rounds=FAST)
    with pytest.raises(ValueError, match="at most 72 bytes"):
        hash_password("é" * 37)  # 74 bytes in UTF-8
    assert not verify_password("x" * 100, hash_password("x" * 72, rounds=FAST))


@pytest.mark.parametrize("bad", ["not-a-hash", "$2b$12$tooshort", "$9z$" + "a" * 56, "hashé"])
def test_a_malformed_hash_gives_false_and_a_warning_never_an_exception(bad, caplog):
    with caplog.at_level(logging.WARNING, logger="shopbot.auth"):
        assert verify_password(PASSWORD, bad) is False
    assert "not a valid bcrypt hash" in caplog.text
    assert "shopbot staff set-password" in caplog.text
    assert bad not in caplog.text


def test_no_hash_means_no_login():
    for missing in (None, "", b""):
        assert verify_password(PASSWORD, missing) is False


# -- throttle ------------------------------------------------------------------------------


def test_five_failures_lock_the_key_for_a_minute_then_release_it():
    clock = FakeClock()
    throttle = LoginThrottle(clock=clock)
    for _ in range(4):
        assert throttle.failure("alice") == 0
        assert throttle.check("alice") == 0
    assert throttle.failure_count("alice") == 4
    assert throttle.failure("alice") == pytest.approx(60)
    assert throttle.check("alice") == pytest.approx(60)
    assert throttle.check("bob") == 0  # other clients are not affected

    clock.advance(59.5)
    assert throttle.check("alice") == pytest.approx(0.5)
    clock.advance(0.5)
    assert throttle.check("alice") == 0
    assert throttle.failure_count("alice") == 0


def test_each_further_lockout_doubles_up_to_the_cap():
    clock = FakeClock()
    throttle = LoginThrottle(max_failures=5, lockout=60, max_lockout=300, clock=clock)
    waits = []
    for _ in range(5):
        for _ in range(5):
            wait = throttle.failure("k")
        waits.append(wait)
        clock.advance(wait)
        assert throttle.check("k") == 0
    assert waits == [60, 120, 240, 300, 300]


def test_a_success_forgives_and_a_quiet_window_resets_the_doubling():
    clock = FakeClock()
    throttle = LoginThrottle(clock=clock)
    for _ in range(5):
        throttle.failure("k")
    clock.advance(60)
    for _ in range(4):
        throttle.failure("k")
    throttle.success("k")
    assert throttle.failure_count("k") == 0
    for _ in range(4):
        assert throttle.failure("k") == 0  # counting starts afresh
    assert throttle.failure("k") == pytest.approx(60)

    # A second lockout right after would double; after a quiet 15 minutes it does not.
    clock.advance(60 + 15 * 60 + 1)
    for _ in range(4):
        throttle.failure("k")
    assert throttle.failure("k") == pytest.approx(60)


def test_failures_older_than_the_window_do_not_count():
    clock = FakeClock()
    throttle = LoginThrottle(max_failures=5, window=15 * 60, clock=clock)
    for _ in range(10):
        assert throttle.failure("k") == 0  # one failure every 4 minutes never locks
        clock.advance(4 * 60)
    assert throttle.failure_count("k") == 3  # those at 28, 32 and 36 minutes; it is 40 now


def test_the_throttle_counts_every_failure_from_many_threads():
    clock = FakeClock()
    throttle = LoginThrottle(max_failures=10_000, clock=clock)
    start = threading.Barrier(8)

    def hammer() -> None:
        start.wait()
        for _ in range(250):
            throttle.failure("shared")
            throttle.check("shared")

    workers = [threading.Thread(target=hammer) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert throttle.failure_count("shared") == 2000


def test_memory_for_keys_is_bounded():
    clock = FakeClock()
    throttle = LoginThrottle(clock=clock, max_keys=100)
    for n in range(1000):
        throttle.failure(f"session-{n}")
        clock.advance(1)
    assert len(throttle._keys) <= 100
    assert throttle.failure_count("session-999") == 1


# -- the facade ----------------------------------------------------------------------------


def test_unconfigured_staff_auth_says_how_to_set_a_password():
    auth = StaffAuth.from_settings(make_settings(), None)
    assert not auth.configured
    message = auth.how_to_configure
    assert "python -m shopbot staff set-password" in message
    assert ".streamlit/secrets.toml" in message and "staff_password_hash" in message
    assert "SHOPBOT_STAFF_PASSWORD_HASH" in message
    # No default password opens anything.
    for guess in ("", "admin", "password", "staff", "shopbot", PASSWORD):
        result = auth.login("s1", guess)
        assert result == LoginResult(False, 0.0, message)


def test_login_with_the_hash_from_secrets(hashed):
    clock = FakeClock()
    auth = StaffAuth.from_settings(
        make_settings(), secrets_hash=hashed, throttle=LoginThrottle(clock=clock)
    )
    assert auth.configured
    assert "secrets.toml" in auth.source
    assert hashed not in repr(auth)
    assert auth.login("s1", "wrong password") == LoginResult(False, 0.0, "Wrong password.")
    result = auth.login("s1", PASSWORD)
    assert result.ok and result.wait_seconds == 0


def test_the_environment_wins_over_secrets(monkeypatch, tmp_path):
    env_hash = hash_password("from the environment", rounds=FAST)
    secrets_hash = hash_password("from secrets.toml", rounds=FAST)
    auth = StaffAuth.from_settings(make_settings(staff_password_hash=env_hash), secrets_hash)
    assert auth.source == "SHOPBOT_STAFF_PASSWORD_HASH"
    assert auth.login("s", "from the environment").ok
    assert not auth.login("s", "from secrets.toml").ok

    from shopbot.settings import Settings

    monkeypatch.setenv("SHOPBOT_STAFF_PASSWORD_HASH", env_hash)
    assert StaffAuth.from_settings(Settings(_env_file=None), secrets_hash).login(
        "s", "from the environment"
    ).ok
    # The line the CLI prints for the environment works in a .env file as it is.
    monkeypatch.delenv("SHOPBOT_STAFF_PASSWORD_HASH")
    dotenv = tmp_path / ".env"
    dotenv.write_text(f"SHOPBOT_STAFF_PASSWORD_HASH='{env_hash}'\n")
    settings = Settings(_env_file=dotenv)
    assert settings.staff_password_hash.get_secret_value() == env_hash
    assert env_hash not in repr(settings)
    # A blank variable falls through to secrets.toml.
    monkeypatch.setenv("SHOPBOT_STAFF_PASSWORD_HASH", "  ")
    fallback = StaffAuth.from_settings(Settings(_env_file=None), secrets_hash)
    assert fallback.login("s", "from secrets.toml").ok


def test_repeated_wrong_passwords_lock_the_session_even_for_the_right_one(hashed):
    clock = FakeClock()
    auth = StaffAuth(hashed, throttle=LoginThrottle(clock=clock))
    for _ in range(4):
        assert auth.login("s1", "guess-guess") == LoginResult(False, 0.0, "Wrong password.")
    locked = auth.login("s1", "guess-guess")
    assert not locked.ok and locked.wait_seconds == pytest.approx(60)
    assert locked.message == "Too many failed attempts. Try again in 60 seconds."

    clock.advance(30)
    still = auth.login("s1", PASSWORD)
    assert not still.ok and still.wait_seconds == pytest.approx(30)
    assert auth.login("s2", PASSWORD).ok  # another session is not locked out

    clock.advance(30)
    assert auth.login("s1", PASSWORD).ok
    # The success forgave s1: a new mistake starts from zero.
    assert auth.login("s1", "guess-guess").wait_seconds == 0


def test_a_malformed_configured_hash_locks_staff_out_with_a_fix(caplog):
    with caplog.at_level(logging.WARNING, logger="shopbot.auth"):
        auth = StaffAuth.from_settings(make_settings(staff_password_hash="plain-text-password"))
        result = auth.login("s1", "plain-text-password")
    assert not auth.configured
    assert not result.ok
    assert "SHOPBOT_STAFF_PASSWORD_HASH is not a valid bcrypt hash" in auth.how_to_configure
    assert "python -m shopbot staff set-password" in result.message
    assert "plain-text-password" not in caplog.text + result.message


def test_the_core_never_imports_streamlit():
    code = (
        "import sys, shopbot.auth, shopbot.feedback, shopbot.cli; "
        "sys.exit('streamlit' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=60).returncode == 0


# -- the CLI -------------------------------------------------------------------------------


def set_password(*args: str, stdin: str, cwd=ROOT) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPBOT_")}
    return subprocess.run(
        [sys.executable, "-m", "shopbot", "staff", "set-password", *args],
        cwd=cwd,
        env={**env, "PYTHONPATH": str(ROOT)},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_cli_set_password_prints_a_hash_that_verifies_and_never_the_password():
    run = set_password(stdin=PASSWORD + "\n")
    assert run.returncode == 0, run.stderr
    hashed = run.stdout.splitlines()[0]
    assert hashed.startswith("$2b$12$")
    assert verify_password(PASSWORD, hashed)
    assert f'staff_password_hash = "{hashed}"' in run.stdout
    assert f"SHOPBOT_STAFF_PASSWORD_HASH='{hashed}'" in run.stdout
    assert ".streamlit/secrets.toml" in run.stdout
    assert PASSWORD not in run.stdout + run.stderr


@pytest.mark.slow
def test_cli_set_password_refuses_a_short_or_missing_password():
    run = set_password(stdin="short\n")
    assert run.returncode == 1
    assert "at least 8 characters" in run.stderr
    assert "short" not in run.stdout and "$2b$" not in run.stdout
    run = set_password(stdin="")
    assert run.returncode == 1 and "no password on stdin" in run.stderr


@pytest.mark.slow
def test_cli_write_secrets_updates_a_private_file_and_keeps_other_keys(tmp_path):
    secrets = tmp_path / ".streamlit" / "secrets.toml"
    secrets.parent.mkdir()
    secrets.write_text(
        '# shop secrets\nOPENAI_API_KEY = "sk-keep-me"\nstaff_password_hash = "old"\n\n'
        '[connections.db]\nurl = "sqlite:///x.db"\nstaff_password_hash = "table-scoped"\n'
    )
    secrets.chmod(0o644)
    run = set_password("--write-secrets", str(secrets), stdin=PASSWORD + "\n")
    assert run.returncode == 0, run.stderr
    hashed = run.stdout.splitlines()[0]

    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
    text = secrets.read_text()
    assert PASSWORD not in text and PASSWORD not in run.stdout + run.stderr
    data = tomllib.loads(text)
    assert verify_password(PASSWORD, data["staff_password_hash"])
    assert data["staff_password_hash"] == hashed
    assert data["OPENAI_API_KEY"] == "sk-keep-me"
    assert data["connections"]["db"] == {
        "url": "sqlite:///x.db",
        "staff_password_hash": "table-scoped",
    }
    assert text.startswith("# shop secrets\n")
    assert text.count("staff_password_hash") == 2  # the old top-level line was replaced

    # A file that does not exist yet is created, private, in a new folder.
    fresh = tmp_path / "new" / ".streamlit" / "secrets.toml"
    run = set_password("--write-secrets", str(fresh), stdin="another password\n")
    assert run.returncode == 0, run.stderr
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
    written = tomllib.loads(fresh.read_text())["staff_password_hash"]
    assert verify_password("another password", written)
    assert [p.name for p in fresh.parent.iterdir()] == ["secrets.toml"]  # no temp file left


@pytest.mark.slow
def test_cli_write_secrets_leaves_a_broken_toml_file_alone(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text("this is = = not toml\n")
    run = set_password("--write-secrets", str(secrets), stdin=PASSWORD + "\n")
    assert run.returncode == 1
    assert "not valid TOML" in run.stderr
    assert secrets.read_text() == "this is = = not toml\n"
