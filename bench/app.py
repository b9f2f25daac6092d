"""The app as a shopper feels it: answer latency and cold start in a real browser, against a
real `streamlit run app.py` server.

Set-up (all state in a temp dir, HF_HUB_OFFLINE=1, the extractive generator, the whole demo
catalog in ``catalog/``):

* first start with ingestion: the server starts on an empty data dir and the first visitor
  waits while the app ingests the demo catalog; timed from process start to a chat input in
  the browser. Reported on its own; it is also what fills the data dir for everything below;
* cold start: the server is stopped and started again on the now-filled data dir (``--cold``
  times, median reported); timed from process start (just before ``Popen``) to a chat input
  visible in a browser that was launched beforehand. The embedding model loads lazily, on the
  first question, so the first answer after the last cold start is reported too;
* answers: in that last server's browser session, 2 warm-up questions, then 20 timed ones
  (each on a fresh chat: "New chat" between questions, so every question replays the same
  short history). Times are taken in the page itself with ``performance.now()``: submit is
  the Enter keydown in the chat input; first token is the first DOM mutation after which the
  new assistant message has non-empty answer text; full answer is the mutation that adds its
  thumbs (``stFeedback``), which the chat page draws after the streamed text and the
  product cards and citations. p50 / p95 by linear interpolation between closest ranks;
* baseline: the same questions through ``ShopAssistant.stream`` in this process, on a copy
  of the filled store (first piece, complete), interleaved with the browser questions (the
  order alternates), so both sides see the same moment of a shared machine. App overhead =
  browser - baseline per question (Streamlit's rerun, the websocket, rendering), p50 / p95.

Targets: first token <= 300 ms p50, full answer <= 1 s p50, cold start <= 20 s. The machine
may be shared with other jobs (load average recorded at start and end); a target missed on a
busy machine is worth re-running before acting on it.

It also saves two screenshots of an answer with product cards: desktop (1280 px wide) and
phone (390 px wide, tall enough for the whole answer) next to the JSON (``screenshot-chat.png``, ``screenshot-chat-phone.png``).

Needs Debian's Chromium at /usr/bin/chromium (``bash .ci/setup`` installs it as root).
Run from the repository root:

    .venv/bin/python bench/app.py            # full run (a few minutes; most of it ingestion)
    .venv/bin/python bench/app.py --quick    # smoke test: 1 cold start, 1 warm-up, 5 questions
    .venv/bin/python bench/app.py --out /tmp/app.json

It prints a markdown table and writes ``bench/results/app.json``; it exits non-zero when the
app fails (an answer never completes, the catalog does not ingest), not when a target is
missed.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.common import percentile, write_json  # noqa: E402
from tests.live_app import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_MISSING,
    launch_chromium,
    server_env,
    streamlit_server,
)

TARGETS = {"first_token_ms_p50": 300.0, "full_answer_ms_p50": 1000.0, "cold_start_s": 20.0}
DEFAULT_OUT = REPO / "bench" / "results" / "app.json"
WARMUP_QUESTIONS = [
    "How much is the Alpine 2 Tent?",
    "What is your return policy?",
]
QUESTIONS = [
    "How much is the Summit Expedition 4 Tent?",
    "Which headlamps do you have?",
    "How long do I have to return an item?",
    "What US size is an EU 42 boot?",
    "Is the Glacier -10 Down Bag in stock?",
    "How much does the Traverse 65 Backpack cost?",
    "Do you have a tent for six people?",
    "What does the warranty cover?",
    "How long does express shipping take?",
    "Which sleeping bags are good for winter?",
    "How much is the Cirrus UL 2 Tent?",
    "Do you sell rain jackets?",
    "What is the cheapest daypack?",
    "Can I return worn boots?",
    "How heavy is the Alpine 2 Tent?",
    "Do you ship to Canada?",
    "Which stove should I take backpacking?",
    "How much is the Hauler 90 Duffel?",
    "Do you have a kids sleeping bag?",
    "What is the Beacon 900 headlamp's battery life?",
]
SCREENSHOT_QUESTION = "Which headlamps do you have?"  # an answer with four product cards
FIRST_START_TIMEOUT_S = 600  # the whole demo catalog is ingested while the first visitor waits
READY_TIMEOUT_S = 120
ANSWER_TIMEOUT_S = 120

# Installed before each question: stamps Enter in the chat input, the first answer text in
# the new assistant message, and its thumbs (the page's last element for that answer).
ARM_TIMER_JS = """
() => {
  const before = document.querySelectorAll('[data-testid="stChatMessage"]').length;
  const t = {submit: null, echo: null, first: null, done: null};
  window.__shopbotTimer = t;
  const input = document.querySelector('[data-testid="stChatInput"] textarea');
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && t.submit === null) t.submit = performance.now();
  }, {capture: true, once: true});
  const check = () => {
    const messages = document.querySelectorAll('[data-testid="stChatMessage"]');
    const asked = messages[before] && messages[before].querySelector('[data-testid="stMarkdown"]');
    if (t.echo === null && asked && asked.innerText.trim()) t.echo = performance.now();
    const answer = messages[before + 1];
    if (!answer || !answer.querySelector('[data-testid="stChatMessageAvatarAssistant"]')) return;
    if (t.first === null) {
      // st.markdown / st.write_stream output, not a spinner's caption ("Loading the answer model…")
      const text = answer.querySelector('[data-testid="stMarkdown"]');
      if (text && text.innerText.trim()) t.first = performance.now();
    }
    if (t.first !== null && answer.querySelector('[data-testid="stFeedback"]')) {
      t.done = performance.now();
      observer.disconnect();
    }
  };
  const observer = new MutationObserver(check);
  observer.observe(document.body, {subtree: true, childList: true, characterData: true});
}
"""


def log(message: str) -> None:
    """Progress goes to stderr; stdout carries only the table."""
    print(message, file=sys.stderr, flush=True)


class BenchError(RuntimeError):
    """The app did not do what the benchmark needs (no answer, catalog not ingested)."""



# -- the browser side --------------------------------------------------------------------


def chat_input(page: Any) -> Any:
    return page.get_by_test_id("stChatInput").locator("textarea")


def open_chat(browser: Any, url: str, timeout_s: float, width: int = 1280, height: int = 900) -> Any:
    """A new visitor (new browser context) on the chat page, once its chat input shows."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(url)
    chat_input(page).wait_for(state="visible", timeout=timeout_s * 1000)
    return page


def ask_timed(page: Any, question: str) -> tuple[float, float, float]:
    """Ask ``question`` in a fresh chat; (question shown, first token, full answer) in ms
    from Enter."""
    from playwright.sync_api import expect

    if page.get_by_test_id("stChatMessage").count():
        new_chat = page.get_by_role("button", name="New chat")
        expect(new_chat).to_be_enabled()
        new_chat.click()
        expect(page.get_by_test_id("stChatMessage")).to_have_count(0)
    page.evaluate(ARM_TIMER_JS)
    chat_input(page).fill(question)
    chat_input(page).press("Enter")
    try:
        page.wait_for_function(
            "() => window.__shopbotTimer.done !== null", timeout=ANSWER_TIMEOUT_S * 1000
        )
    except Exception as exc:  # playwright's TimeoutError
        raise BenchError(f"no complete answer to {question!r} within {ANSWER_TIMEOUT_S} s") from exc
    t = page.evaluate("() => window.__shopbotTimer")
    if t["submit"] is None:
        raise BenchError("the Enter keydown was not seen")
    return t["echo"] - t["submit"], t["first"] - t["submit"], t["done"] - t["submit"]


def cold_start(browser: Any, env: dict[str, str], log_path: Path, timeout_s: float) -> tuple[float, str]:
    """Start a server, open the chat; seconds from process start to a visible chat input,
    and the first visitor's page text (for the seeding status)."""
    with streamlit_server(env, log_path, timeout=timeout_s) as server:
        page = open_chat(browser, server.url, timeout_s)
        seconds = time.perf_counter() - server.started_at
        text = page.get_by_test_id("stMainBlockContainer").inner_text()
        page.context.close()
    return seconds, text


@contextmanager
def ready_server_session(browser: Any, env: dict[str, str], log_path: Path) -> Iterator[tuple[Any, Any, float]]:
    """A cold-started server, its first visitor's page, and the cold start in seconds."""
    with streamlit_server(env, log_path, timeout=READY_TIMEOUT_S) as server:
        page = open_chat(browser, server.url, READY_TIMEOUT_S)
        seconds = time.perf_counter() - server.started_at
        try:
            yield server, page, seconds
        finally:
            page.context.close()


def screenshot_answer(browser: Any, url: str, path: Path, width: int, height: int) -> None:
    from playwright.sync_api import expect

    page = open_chat(browser, url, READY_TIMEOUT_S, width=width, height=height)
    try:
        chat_input(page).fill(SCREENSHOT_QUESTION)
        chat_input(page).press("Enter")
        answer = page.get_by_test_id("stChatMessage").nth(1)
        expect(answer.get_by_test_id("stFeedback")).to_be_visible(timeout=ANSWER_TIMEOUT_S * 1000)
        page.screenshot(path=path, animations="disabled")
    finally:
        page.context.close()


# -- the same answers without the app --------------------------------------------------


class CoreBaseline:
    """``ShopAssistant.stream`` in this process on its own copy of the store the app filled
    (one process per embedded store): what the chat page calls, minus Streamlit and the
    browser."""

    def __init__(self, data_dir: Path, warmups: Sequence[str]) -> None:
        from shopbot.service import CatalogService
        from shopbot.settings import Settings

        settings = Settings(
            _env_file=None, data_dir=data_dir, catalog_dir=REPO / "catalog",
            generator="extractive", seed_demo_catalog=False,
        )
        self.assistant = CatalogService(settings).assistant()
        for question in warmups:
            self.assistant.ask(question)

    def time(self, question: str) -> tuple[float, float]:
        """(first piece ms, complete ms) for ``question`` with no history."""
        started = time.perf_counter()
        stream = self.assistant.stream(question, [])
        next(iter(stream), None)
        first = (time.perf_counter() - started) * 1000
        stream.complete()
        return first, (time.perf_counter() - started) * 1000


# -- report ------------------------------------------------------------------------------


def chromium_version() -> str:
    try:
        out = subprocess.run([str(CHROMIUM), "--version"], capture_output=True, text=True, timeout=30)
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def package_versions() -> dict[str, str]:
    versions = {}
    for name in ["streamlit", "playwright", "chromadb", "sentence-transformers", "torch"]:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def machine_info() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "browser": chromium_version(),
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "shared": "the machine runs other jobs at the same time; see the load averages",
        "packages": package_versions(),
    }


def ms(value: float) -> float:
    return round(value, 1)


def paired(app: Sequence[float], core: Sequence[float]) -> dict[str, float]:
    """p50 / p95 of the per-question differences app - core."""
    differences = [a - c for a, c in zip(app, core)]
    return {"p50": ms(percentile(differences, 50)), "p95": ms(percentile(differences, 95))}


def build_report(
    first_token: list[float],
    full_answer: list[float],
    colds: list[float],
    first_answer_cold: tuple[float, float],
    first_start: dict[str, Any] | None,
    warmups: int,
    baseline: tuple[list[float], list[float]],
    echo: list[float],
) -> dict[str, Any]:
    figures = {
        "first_token_ms_p50": percentile(first_token, 50),
        "full_answer_ms_p50": percentile(full_answer, 50),
        "cold_start_s": percentile(colds, 50),
    }
    return {
        "first_token_ms": {"p50": ms(percentile(first_token, 50)), "p95": ms(percentile(first_token, 95))},
        "full_answer_ms": {"p50": ms(percentile(full_answer, 50)), "p95": ms(percentile(full_answer, 95))},
        "question_shown_ms": {"p50": ms(percentile(echo, 50)), "p95": ms(percentile(echo, 95))},
        "cold_start_s": round(figures["cold_start_s"], 2),
        "cold_start_s_runs": [round(s, 2) for s in colds],
        "first_answer_after_cold_start_ms": {
            "first_token": ms(first_answer_cold[0]),
            "full_answer": ms(first_answer_cold[1]),
        },
        "first_start_with_ingestion": first_start,
        "core_baseline_ms": {
            "first_piece": {"p50": ms(percentile(baseline[0], 50)), "p95": ms(percentile(baseline[0], 95))},
            "complete": {"p50": ms(percentile(baseline[1], 50)), "p95": ms(percentile(baseline[1], 95))},
        },
        "app_overhead_ms": {
            "first_token": paired(first_token, baseline[0]),
            "full_answer": paired(full_answer, baseline[1]),
        },
        "targets": {
            "first_token_ms_p50": TARGETS["first_token_ms_p50"],
            "full_answer_ms_p50": TARGETS["full_answer_ms_p50"],
            "cold_start_s": TARGETS["cold_start_s"],
        },
        "met": {key: figures[key] <= target for key, target in TARGETS.items()},
        "samples": {
            "warm_up_questions": warmups,
            "questions": len(first_token),
            "question_shown_ms": [ms(v) for v in echo],
            "first_token_ms": [ms(v) for v in first_token],
            "baseline_first_piece_ms": [ms(v) for v in baseline[0]],
            "baseline_complete_ms": [ms(v) for v in baseline[1]],
            "full_answer_ms": [ms(v) for v in full_answer],
        },
        "method": {
            "server": "streamlit run app.py --server.headless true --server.fileWatcherType none, loopback",
            "browser": f"headless {CHROMIUM} via Playwright (sync API), 1280x900 viewport",
            "generator": "extractive",
            "catalog": "the whole demo catalog (catalog/), ingested by the app's first start before any timing",
            "clock": "performance.now() in the page: Enter keydown -> DOM mutations (MutationObserver)",
            "question_shown": "first mutation after which the shopper's question shows as a chat message "
            "(the rerun has reached the chat page's input; the answer starts right after)",
            "first_token": "first mutation after which the new assistant message has non-empty answer text (an stMarkdown element; spinners do not count)",
            "full_answer": "mutation that adds the answer's thumbs (stFeedback), drawn after text, cards and citations",
            "questions": "a fresh chat ('New chat') per question, same browser session",
            "warm_up": "questions asked before the timed ones (the first loads the embedding model)",
            "cold_start": "time.perf_counter() from just before Popen to a visible chat input; browser launched beforehand",
            "percentiles": "linear interpolation between closest ranks",
            "core_baseline": "ShopAssistant.stream(question) in the bench process on a copy of the "
            "same store, the same questions interleaved with the browser's (order alternating): "
            "first piece and complete; app overhead = browser - baseline per question",
        },
    }


def markdown_table(report: dict[str, Any]) -> str:
    met = report["met"]
    tick = lambda key: "met" if met[key] else "MISSED"  # noqa: E731
    rows = [
        "| measure | p50 | p95 | target | |",
        "| --- | ---: | ---: | ---: | --- |",
        f"| first token (Enter -> first answer text) | {report['first_token_ms']['p50']:,.0f} ms "
        f"| {report['first_token_ms']['p95']:,.0f} ms | <= {TARGETS['first_token_ms_p50']:,.0f} ms p50 "
        f"| {tick('first_token_ms_p50')} |",
        f"| full answer (Enter -> thumbs under the answer) | {report['full_answer_ms']['p50']:,.0f} ms "
        f"| {report['full_answer_ms']['p95']:,.0f} ms | <= {TARGETS['full_answer_ms_p50']:,.0f} ms p50 "
        f"| {tick('full_answer_ms_p50')} |",
        f"| cold start (process start -> chat input), catalog already ingested "
        f"| {report['cold_start_s']:.1f} s | | <= {TARGETS['cold_start_s']:.0f} s | {tick('cold_start_s')} |",
    ]
    base = report["core_baseline_ms"]
    over = report["app_overhead_ms"]
    rows += [
        f"| (question shown as a chat message) | {report['question_shown_ms']['p50']:,.0f} ms "
        f"| {report['question_shown_ms']['p95']:,.0f} ms | | |",
        f"| baseline: ShopAssistant.stream first piece, no app | {base['first_piece']['p50']:,.0f} ms "
        f"| {base['first_piece']['p95']:,.0f} ms | | |",
        f"| baseline: ShopAssistant.stream complete, no app | {base['complete']['p50']:,.0f} ms "
        f"| {base['complete']['p95']:,.0f} ms | | |",
        f"| app overhead on first token (per question, app - baseline) "
        f"| {over['first_token']['p50']:,.0f} ms | {over['first_token']['p95']:,.0f} ms | | |",
        f"| app overhead on full answer (per question, app - baseline) "
        f"| {over['full_answer']['p50']:,.0f} ms | {over['full_answer']['p95']:,.0f} ms | | |",
    ]
    first = report["first_answer_after_cold_start_ms"]
    extra = [
        "",
        f"{report['samples']['questions']} questions after {report['samples']['warm_up_questions']} warm-up; cold start runs "
        f"{report['cold_start_s_runs']} s; first answer after a cold start (loads the embedding "
        f"model): first token {first['first_token'] / 1000:.1f} s, full {first['full_answer'] / 1000:.1f} s",
    ]
    if report["first_start_with_ingestion"]:
        f = report["first_start_with_ingestion"]
        extra.append(
            f"first start on an empty store, ingesting the demo catalog ({f['status']}): "
            f"{f['seconds']:.1f} s to a chat input"
        )
    m = report["machine"]
    extra.append(
        f"{m['cpu_count']} CPUs, shared with other jobs (load average {m['load_average_1m_at_start']} "
        f"at start, {m['load_average_1m_at_end']} at end); {m['browser']}; streamlit "
        f"{m['packages']['streamlit']}, playwright {m['packages']['playwright']}"
    )
    return "\n".join(rows + extra)



# -- main --------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 1 cold start, 1 warm-up question, 5 timed questions")
    parser.add_argument("--cold", type=int, default=None,
                        help="cold starts to time on the filled store (default 3; 1 with --quick)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="JSON file to write (default bench/results/app.json); the "
                        "screenshots go beside it")
    args = parser.parse_args(argv)
    if args.cold is None:
        args.cold = 1 if args.quick else 3
    if args.cold < 1:
        parser.error("--cold must be at least 1")
    return args


def run(args: argparse.Namespace, root: Path, browser: Any) -> dict[str, Any]:
    env = server_env(
        SHOPBOT_DATA_DIR=str(root / "data"),
        SHOPBOT_CATALOG_DIR=str(REPO / "catalog"),
        SHOPBOT_GENERATOR="extractive",
    )
    logs = root / "logs"

    log("first start: the app ingests the demo catalog into an empty store")
    seconds, text = cold_start(browser, env, logs / "first-start.log", FIRST_START_TIMEOUT_S)
    status = re.search(r"Demo catalog ready: \d+ files, \d+ products", text)
    if not status:
        raise BenchError(f"the first start did not report the demo catalog as ready:\n{text[:2000]}")
    first_start = {"seconds": round(seconds, 2), "status": status.group(0)}
    log(f"  {seconds:.1f} s ({status.group(0)})")

    colds: list[float] = []
    for number in range(1, args.cold):
        seconds, _ = cold_start(browser, env, logs / f"cold-{number}.log", READY_TIMEOUT_S)
        colds.append(seconds)
        log(f"cold start {number}: {seconds:.1f} s")

    warmups = WARMUP_QUESTIONS[:1] if args.quick else WARMUP_QUESTIONS
    questions = QUESTIONS[:5] if args.quick else QUESTIONS
    log("baseline: loading ShopAssistant on a copy of the store")
    shutil.copytree(root / "data", root / "data-baseline")
    core = CoreBaseline(root / "data-baseline", warmups)
    with ready_server_session(browser, env, logs / f"cold-{args.cold}.log") as (server, page, seconds):
        colds.append(seconds)
        log(f"cold start {args.cold}: {seconds:.1f} s; warming up")
        first_answer_cold = ask_timed(page, warmups[0])[1:]
        for question in warmups[1:]:
            ask_timed(page, question)
        echo: list[float] = []
        first_token: list[float] = []
        full_answer: list[float] = []
        core_first: list[float] = []
        core_complete: list[float] = []
        for number, question in enumerate(questions):
            if number % 2:
                base_first, base_complete = core.time(question)
            shown, first, full = ask_timed(page, question)
            if not number % 2:
                base_first, base_complete = core.time(question)
            echo.append(shown)
            first_token.append(first)
            full_answer.append(full)
            core_first.append(base_first)
            core_complete.append(base_complete)
            log(f"  {shown:6.0f} ms shown, {first:6.0f} ms first token, {full:6.0f} ms full "
                f"(baseline {base_first:6.0f} / {base_complete:6.0f} ms): {question}")
        out_dir = args.out.resolve().parent
        log("screenshots")
        screenshot_answer(browser, server.url, out_dir / "screenshot-chat.png", 1280, 1100)
        # Phone width, tall enough for the whole answer (the chat scrolls inside the page,
        # so a full-page shot would stop at the viewport).
        screenshot_answer(browser, server.url, out_dir / "screenshot-chat-phone.png", 390, 1700)
        if "Traceback" in server.log():
            raise BenchError(f"the server logged an error:\n{server.log()}")
    return build_report(
        first_token, full_answer, colds, first_answer_cold, first_start, len(warmups),
        (core_first, core_complete), echo,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = args.out.resolve()
    if not CHROMIUM.exists():
        log(CHROMIUM_MISSING)
        return 2
    from playwright.sync_api import sync_playwright

    load_at_start = round(os.getloadavg()[0], 2)
    with tempfile.TemporaryDirectory(prefix="shopbot-bench-app-") as tmp, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            report = run(args, Path(tmp), browser)
        except BenchError as exc:
            log(f"FAILED: {exc}")
            return 1
        finally:
            browser.close()
    report["machine"] = machine_info()
    report["machine"]["load_average_1m_at_start"] = load_at_start
    report["quick"] = args.quick
    report["timestamp_utc"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    write_json(report, out)
    print(markdown_table(report))
    log(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
