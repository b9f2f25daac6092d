"""Staff login: real bcrypt hashes, a throttle driven by a fake clock, and the real CLI."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
import threading
import time
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
    assert len(throttle.store._keys) <= 100
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
    settings = make_settings(staff_password_hash=env_hash, data_dir=tmp_path / "data")
    monkeypatch.setenv("SHOPBOT_DATA_DIR", str(tmp_path / "data"))  # the login records
    auth = StaffAuth.from_settings(settings, secrets_hash)
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


def test_repeated_wrong_passwords_lock_the_account_even_for_the_right_one(hashed):
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
    # The staff account itself is locked: another session or address waits too.
    other = auth.login("s2", PASSWORD)
    assert not other.ok and other.wait_seconds == pytest.approx(30)

    clock.advance(30)
    assert auth.login("s1", PASSWORD).ok
    # The success forgave s1 and the account: a new mistake starts from zero.
    assert auth.login("s1", "guess-guess").wait_seconds == 0
    assert auth.login("s2", PASSWORD).ok


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


# -- per account and per client, shared by processes; the trusted-proxy rule ----------------


def test_new_sessions_and_addresses_get_no_fresh_guesses(hashed):
    """Five wrong passwords from five sessions (or addresses) lock the staff account: the
    sixth session gets no guess at all, even with the right password."""
    clock = FakeClock()
    auth = StaffAuth(hashed, throttle=LoginThrottle(clock=clock))
    for n in range(4):
        assert auth.login(f"session-{n}", "guess-guess").message == "Wrong password."
    assert auth.login("session-4", "guess-guess").wait_seconds == pytest.approx(60)
    refused = auth.login("session-5", PASSWORD)
    assert not refused.ok and refused.message == "Too many failed attempts. Try again in 60 seconds."


def test_a_client_is_locked_out_on_its_own_whichever_account_it_tries(hashed):
    clock = FakeClock()
    auth = StaffAuth(hashed, throttle=LoginThrottle(clock=clock))
    for account in ("staff", "admin", "root", "owner", "shop"):
        auth.login("198.51.100.7", "guess-guess", account=account)
    assert not auth.login("198.51.100.7", PASSWORD, account="other").ok  # the client is locked
    assert auth.login("203.0.113.9", PASSWORD, account="other").ok  # others are not


def test_attempts_made_at_the_same_moment_get_no_more_than_five_checks(hashed, monkeypatch):
    """Each attempt is counted before bcrypt checks it: 20 sessions trying at once get 5
    password checks between them, not 20."""
    import shopbot.auth as auth_module

    checked = []
    real_verify = auth_module.verify_password

    def counting_verify(password, hashed_password):
        checked.append(password)
        return real_verify(password, hashed_password)

    monkeypatch.setattr(auth_module, "verify_password", counting_verify)
    auth = StaffAuth(hashed, throttle=LoginThrottle(clock=FakeClock()))
    start = threading.Barrier(20)

    def guess(n: int) -> LoginResult:
        start.wait()
        return auth.login(f"session-{n}", f"guess-{n:04d}")

    results = []
    threads = [threading.Thread(target=lambda n=n: results.append(guess(n))) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(checked) == 5
    assert not any(r.ok for r in results)
    assert sum(r.message == "Wrong password." for r in results) == 4


def _records_env(tmp_path, hashed_password: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPBOT_")}
    env.update(SHOPBOT_DATA_DIR=str(tmp_path / "data"), SHOPBOT_STAFF_PASSWORD_HASH=hashed_password)
    return env


def _in_another_process(code: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )


def test_a_lockout_made_in_another_process_holds_here(tmp_path, hashed, monkeypatch):
    """The default StaffAuth keeps failures in the feedback database: five wrong passwords
    in one app process lock the account in another, and in a restarted one."""
    env = _records_env(tmp_path, hashed)
    other = _in_another_process(
        "from shopbot.auth import StaffAuth\n"
        "from shopbot.settings import Settings\n"
        "auth = StaffAuth.from_settings(Settings(_env_file=None))\n"
        "print([auth.login(f'session-{n}', 'guess-guess').message for n in range(5)])\n",
        env,
    )
    out, err = other.communicate(timeout=120)
    assert other.returncode == 0, err
    assert "Too many failed attempts" in out

    settings = make_settings(data_dir=tmp_path / "data", staff_password_hash=hashed)
    here = StaffAuth.from_settings(settings)
    refused = here.login("a-new-session", PASSWORD)
    assert not refused.ok and "Too many failed attempts" in refused.message
    assert (tmp_path / "data" / "feedback.db").is_file()


def test_two_processes_counting_at_once_lose_no_failure(tmp_path):
    from shopbot.login_records import SQLThrottleStore

    url = f"sqlite:///{(tmp_path / 'records.db').as_posix()}"
    code = (
        "import sys, time\n"
        "from shopbot.auth import LoginThrottle\n"
        "from shopbot.login_records import SQLThrottleStore\n"
        f"throttle = LoginThrottle(max_failures=10_000, clock=time.time, store=SQLThrottleStore({url!r}))\n"
        "for _ in range(25):\n"
        "    throttle.failure('account:staff')\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPBOT_")}
    workers = [_in_another_process(code, env) for _ in range(2)]
    for worker in workers:
        _, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
    throttle = LoginThrottle(max_failures=10_000, clock=time.time, store=SQLThrottleStore(url))
    assert throttle.failure_count("account:staff") == 50


def test_a_login_records_database_that_cannot_be_used_refuses_sign_in_clearly(hashed, caplog):
    from shopbot.login_records import SQLThrottleStore

    store = SQLThrottleStore("sqlite:////proc/no-such-dir/records.db")
    auth = StaffAuth(hashed, throttle=LoginThrottle(clock=time.time, store=store))
    with caplog.at_level(logging.ERROR, logger="shopbot.auth"):
        result = auth.login("s1", PASSWORD)
    assert not result.ok and "Staff sign-in is unavailable right now" in result.message
    assert "cannot use the login records" in caplog.text
    assert PASSWORD not in caplog.text and hashed not in caplog.text


PROXY = ["10.0.0.5", "127.0.0.1"]


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "trusted", "client"),
    [
        # No trusted proxy: the header is ignored, whoever sends it.
        ("198.51.100.7", "203.0.113.1", [], "198.51.100.7"),
        (None, "203.0.113.1", [], "localhost"),
        # A direct client is not a proxy: its own X-Forwarded-For is a lie.
        ("198.51.100.7", "203.0.113.1", PROXY, "198.51.100.7"),
        # From a trusted proxy: the address the proxy appended (the rightmost).
        ("10.0.0.5", "203.0.113.1", PROXY, "203.0.113.1"),
        ("10.0.0.5", "6.6.6.6, 203.0.113.1", PROXY, "203.0.113.1"),  # the client's own entry
        # Through two trusted proxies: past both.
        ("10.0.0.5", "203.0.113.1, 127.0.0.1", PROXY, "203.0.113.1"),
        # A CIDR network and IPv6; Streamlit reports a loopback peer as None.
        ("10.9.8.7", "2001:db8::1", ["10.0.0.0/8"], "2001:db8::1"),
        (None, "203.0.113.1", ["127.0.0.1"], "203.0.113.1"),
        (None, "203.0.113.1", ["::1"], "203.0.113.1"),
        ("::ffff:10.0.0.5", "203.0.113.1", PROXY, "203.0.113.1"),
        # Ports and brackets as some proxies write them.
        ("10.0.0.5", "203.0.113.1:4711", PROXY, "203.0.113.1"),
        ("10.0.0.5", "[2001:db8::2]:4711", PROXY, "2001:db8::2"),
        # A trusted proxy with no header, or garbage in it: the proxy is the client.
        ("10.0.0.5", None, PROXY, "10.0.0.5"),
        ("10.0.0.5", "unknown", PROXY, "10.0.0.5"),
        ("10.0.0.5", "203.0.113.1, unknown", PROXY, "10.0.0.5"),
        # Only proxies in the chain: the leftmost is as far as we can see.
        ("10.0.0.5", "127.0.0.1", PROXY, "127.0.0.1"),
    ],
)
def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(peer, forwarded_for, trusted, client):
    from shopbot.auth import client_address

    assert client_address(peer, forwarded_for, trusted) == client


def test_trusted_proxies_setting_takes_ips_and_networks(monkeypatch):
    from pydantic import ValidationError

    from shopbot.settings import Settings

    monkeypatch.setenv("SHOPBOT_TRUSTED_PROXIES", " 127.0.0.1, 10.1.2.3/8 ,::1")
    assert Settings(_env_file=None).trusted_proxies == ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]
    monkeypatch.setenv("SHOPBOT_TRUSTED_PROXIES", "")
    assert Settings(_env_file=None).trusted_proxies == []
    monkeypatch.setenv("SHOPBOT_TRUSTED_PROXIES", "proxy.internal")
    with pytest.raises(ValidationError, match="trusted_proxies") as error:
        Settings(_env_file=None)
    assert "not an IP address or CIDR network" in str(error.value)
