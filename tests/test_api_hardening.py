"""The HTTP API against hostile clients, on a real `python -m shopbot serve` process over an
empty data dir (the requests here are refused before any search, so no catalog is needed):
bodies that nest 100k levels deep or carry lone surrogates get a 400, and clients that send
half a request and stall are disconnected after the read timeouts while others are served.

Raw sockets speak HTTP/1.1 by hand where a client library would refuse to send the request.
Nothing sleeps: each wait is a blocking read with a deadline.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from shopbot.api.schema import Limits, parse_chat_request
from shopbot.chain import ShopAssistant
from shopbot.generators import Turn, create_generator
from shopbot.retrieval import fixed_sources
from shopbot.unitext import without_lone_surrogates
from tests.api_server import APIServer, api_server_process, create_key, server_env
from tests.conftest import make_settings

pytestmark = pytest.mark.slow

HEADER_TIMEOUT = 2
BODY_TIMEOUT = 2
WAIT = 60  # the most any test waits for the server to close a connection


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[APIServer]:
    env = server_env(
        tmp_path_factory.mktemp("hardening") / "data",
        SHOPBOT_GENERATOR="extractive",
        SHOPBOT_LOG_LEVEL="INFO",
        SHOPBOT_API_HEADER_TIMEOUT=str(HEADER_TIMEOUT),
        SHOPBOT_API_BODY_TIMEOUT=str(BODY_TIMEOUT),
    )
    key = create_key(env, "hardening", rate_per_minute=0)
    with api_server_process(env, tmp_path_factory.mktemp("hardening-server")) as running:
        running.key = key
        running.keys_made.append(key)
        yield running


def post_raw(server: APIServer, raw: bytes) -> httpx.Response:
    return httpx.post(
        f"{server.base_url}/chat/completions",
        content=raw,
        headers={"Authorization": f"Bearer {server.key}", "Content-Type": "application/json"},
        timeout=60,
        trust_env=False,
    )


def openai_error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error" and error["code"] == code, error
    return error


def nested(levels: int) -> list:
    """``levels`` lists, each inside the last: [[[...[1]...]]]."""
    value: list = [1]
    for _ in range(levels - 1):
        value = [value]
    return value


def chat_body(content: str = "How much is the Alpine 2 Tent?", **extra) -> dict:
    return {"model": "shopbot", "messages": [{"role": "user", "content": content}], **extra}


# -- deeply nested bodies and lone surrogates ------------------------------------------------


def test_a_body_nested_100k_levels_deep_gets_400_not_500(server):
    lists = b'{"model": "shopbot", "messages": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    objects = b"{\"a\": " * 30_000 + b"1" + b"}" * 30_000
    unclosed = b"[" * 100_000
    deep_but_small = json.dumps(chat_body(metadata=nested(32))).encode()  # 33 levels
    for case, raw in [
        ("100k lists", lists),
        ("30k objects", objects),
        ("unclosed", unclosed),
        ("33 levels", deep_but_small),
    ]:
        error = openai_error(post_raw(server, raw), 400, "invalid_json")
        assert "nested too deeply" in error["message"] or case == "unclosed", (case, error)

    assert server.process.poll() is None
    assert server.health()["status"] == "ok"
    assert "Traceback" not in server.log() and "RecursionError" not in server.log()


def test_a_lone_surrogate_anywhere_in_the_body_gets_400_and_reaches_nothing(server):
    escaped = '{"model": "shopbot", "messages": [{"role": "user", "content": "tent \\ud800"}]}'
    cases = {
        "escape in the question": (escaped.encode(), "messages[0].content"),
        "low surrogate in a text part": (
            json.dumps(
                chat_body([{"type": "text", "text": "a \udfff b"}]), ensure_ascii=True
            ).encode(),
            "messages[0].content[0].text",
        ),
        "escape in the model": (
            json.dumps({**chat_body(), "model": "shop\udbffbot"}).encode(),
            "model",
        ),
        "escape in a field nobody reads": (
            json.dumps(chat_body(user="\ud83d")).encode(),
            "user",
        ),
        "escape in a key": (json.dumps(chat_body(metadata={"\udc00": 1})).encode(), "metadata"),
        # The UTF-8 bytes of U+D800 (ED A0 80): invalid UTF-8 that json.loads would let
        # through as a lone surrogate.
        "raw bytes": (
            b'{"model": "shopbot", "messages": [{"role": "user", "content": "tent \xed\xa0\x80"}]}',
            "messages[0].content",
        ),
    }
    for case, (raw, param) in cases.items():
        response = post_raw(server, raw)
        try:
            error = openai_error(response, 400, "invalid_unicode")
        except AssertionError as exc:
            raise AssertionError(f"{case}: {exc}") from None
        assert error["param"] == param, (case, error)
        assert "unpaired UTF-16 surrogate" in error["message"], (case, error)
        response.content.decode("utf-8")  # the error itself is valid UTF-8

    assert server.process.poll() is None
    assert server.health()["status"] == "ok"
    log = server.log()
    assert "Traceback" not in log and "UnicodeEncodeError" not in log and '" 500' not in log


def test_a_valid_surrogate_pair_is_text_and_passes():
    limits = Limits(max_request_bytes=1 << 18, max_messages=50, max_message_chars=8000, max_tokens=99)
    raw = b'{"model": "shopbot", "messages": [{"role": "user", "content": "tent \\ud83c\\udfd5"}]}'
    assert parse_chat_request(raw, limits).question == "tent \U0001f3d5"
    deep = json.dumps(chat_body(metadata=nested(31))).encode()  # 32 levels: the most allowed
    assert parse_chat_request(deep, limits).model == "shopbot"


def test_the_chain_replaces_lone_surrogates_whatever_the_entry_point():
    """`python -m shopbot ask` gets argv decoded with surrogateescape (an undecodable byte
    becomes U+DCxx): the chain turns such characters into U+FFFD before anything reads
    them."""
    searched: list[str] = []

    def sources(question: str):
        searched.append(question)
        return []

    assistant = ShopAssistant(
        fixed_sources(sources), create_generator(make_settings(), "extractive")
    )
    answer = assistant.ask(
        "tent \udcff price?", [Turn("user", "hi \ud800"), Turn("assistant", "Hello \udfff")]
    )
    assert answer.question == "tent \ufffd price?"
    assert searched and all("\ufffd" in q and without_lone_surrogates(q) == q for q in searched)
    (answer.text + answer.standalone_question).encode("utf-8")  # nothing unencodable


# -- read timeouts --------------------------------------------------------------------------


def connect(server: APIServer) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=WAIT)


def read_until_closed(sock: socket.socket, what: str) -> bytes:
    """Everything the server sends until it closes the connection; fails if it has not
    closed it within WAIT seconds."""
    deadline = time.monotonic() + WAIT
    received = b""
    with sock:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{what}: still open after {WAIT} s; got {received!r}")
            sock.settimeout(left)
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                continue  # the deadline check above fails the test
            except ConnectionResetError:
                return received
            if not chunk:
                return received
            received += chunk


def response_of(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


def assert_timed_out(raw: bytes, what: str) -> dict:
    assert raw, f"{what}: closed without a response"
    status, headers, body = response_of(raw)
    assert status == 408, (what, raw)
    assert headers.get("connection") == "close", (what, headers)
    error = json.loads(body)["error"]
    assert error["code"] == "request_timeout" and error["type"] == "invalid_request_error"
    return error


def test_stalled_clients_are_disconnected_after_the_read_timeouts_and_others_are_served(server):
    host = server.url.removeprefix("http://")
    auth = f"Authorization: Bearer {server.key}\r\n".encode()
    body_head = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: " + host.encode() + b"\r\n" + auth
        + b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    )
    stalls = {
        # connected, sent nothing
        "idle": b"",
        # half a request line and header
        "half headers": b"POST /v1/chat/completions HTTP/1.1\r\nHost: " + host.encode()
        + b"\r\nContent-Ty",
        # all headers, 20 of 1000 body bytes: the app is waiting for the rest
        "half body": body_head + b'{"model": "shopbot",',
        # a body nobody reads: no key, so 401 at once; then the body never completes
        "half unread body": body_head.replace(auth, b"") + b'{"model": ',
    }
    sockets = {}
    for what, sent in stalls.items():
        for n in range(5):
            sock = connect(server)
            if sent:
                sock.sendall(sent)
            sockets[f"{what} #{n}"] = sock

    # Twenty stalled connections are open; everyone else is answered as usual.
    for _ in range(3):
        assert server.health()["status"] == "ok"
        openai_error(post_raw(server, b"{not json"), 400, "invalid_json")
    with httpx.Client(base_url=server.url, trust_env=False, timeout=60) as keep_alive:
        assert keep_alive.get("/health").status_code == 200
        assert keep_alive.get("/health").status_code == 200  # same connection

    for name, sock in sockets.items():
        received = read_until_closed(sock, name)
        if name.startswith("idle"):
            assert received == b"", (name, received)  # nothing to answer: just closed
        elif name.startswith("half headers"):
            error = assert_timed_out(received, name)
            assert "headers" in error["message"] and "SHOPBOT_API_HEADER_TIMEOUT" in error["message"]
        elif name.startswith("half body"):
            error = assert_timed_out(received, name)
            assert "body" in error["message"] and "SHOPBOT_API_BODY_TIMEOUT" in error["message"]
        else:  # the 401 came first, then the close
            status, headers, body = response_of(received)
            assert status == 401, (name, received)
            assert json.loads(body)["error"]["code"] == "missing_api_key"

    assert server.process.poll() is None
    assert server.health()["status"] == "ok"
    log = server.log()
    assert "the request headers from 127.0.0.1 did not arrive within 2 s" in log
    assert "the body of POST /v1/chat/completions from 127.0.0.1 did not arrive" in log
    assert "an unread request body did not arrive" in log
    assert "Traceback" not in log
