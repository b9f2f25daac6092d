"""The HTTP API under load: concurrent streaming clients against `python -m shopbot serve`.

Set-up (all state in a temp dir unless ``--data-dir`` names one that already holds a
catalog; HF_HUB_OFFLINE=1): the demo catalog is ingested with `python -m shopbot ingest
catalog/`, a key without a rate limit is made with `python -m shopbot apikey create`, and
the server is started as a subprocess on a free loopback port with the extractive generator.

Then, against the ``shopbot`` model (the whole RAG chain), with streaming on:

* warm-up: 2 requests (the extractive generator embeds a source's sentences once);
* baseline: one client alone, sequential requests (``--baseline-requests``), measured in the
  same run: what a request costs without contention;
* load: ``--clients`` clients (32), each sending its next question as soon as its last
  answer ended, for ``--duration`` seconds (60); questions cycle through a fixed list.

Per request: time to the first chunk with answer text (first token) and to ``data: [DONE]``
(completion), from just before the request is sent; an error is any non-200 status, an
``error`` event, a stream without ``[DONE]``, an empty answer or a transport failure.
Reported: requests/s (completed requests over the load phase's wall time), p50/p95 of both
times (linear interpolation between closest ranks), errors (must be 0), the server's RSS at
the start (after warm-up) and at the end of the load, and the machine's load average.

    .venv/bin/python bench/api.py                 # 32 clients, 60 s (plus ~40 s set-up)
    .venv/bin/python bench/api.py --quick         # smoke test: 4 clients, 5 s
    .venv/bin/python bench/api.py --data-dir /tmp/api-data   # reuse an ingested catalog

The clients run in this process (asyncio + httpx) on the same machine as the server, so
they share its CPU cores; the server process is measured on its own. It prints a markdown
table, writes ``bench/results/api.json``, and exits non-zero when any request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.common import percentile  # noqa: E402
from tests.api_server import (  # noqa: E402
    api_server_process,
    create_key,
    ingest_demo_catalog,
    server_env,
)

DEFAULT_OUT = REPO / "bench" / "results" / "api.json"
QUESTIONS = [
    "How much is the Alpine 2 Tent?",
    "Do you have a waterproof jacket for women?",
    "What is your return policy?",
    "Which sleeping bag is warmest?",
    "How much is standard shipping?",
    "Do you sell trekking poles?",
    "What size chart do your hiking boots use?",
    "Is the Traverse 65 backpack in stock?",
    "Recommend a stove for backpacking",
    "Do you sell kayaks?",
    "What headlamps do you have under $50?",
    "How long is the warranty on tents?",
]



def summary_ms(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(values, 50) * 1000, 1),
        "p95": round(percentile(values, 95) * 1000, 1),
        "mean": round(sum(values) / len(values) * 1000, 1) if values else float("nan"),
    }


def rss_mb(pid: int) -> float:
    try:
        import psutil

        return psutil.Process(pid).memory_info().rss / 2**20
    except ImportError:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise


async def one_request(client, url: str, key: str, question: str) -> dict[str, Any]:
    """One streamed chat completion: times and whether it went right."""
    body = {"model": "shopbot", "stream": True, "messages": [{"role": "user", "content": question}]}
    started = time.perf_counter()
    first = None
    text: list[str] = []
    try:
        async with client.stream(
            "POST",
            f"{url}/v1/chat/completions",
            json=body,
            headers={"Authorization": f"Bearer {key}"},
        ) as response:
            if response.status_code != 200:
                detail = (await response.aread())[:200].decode("utf-8", "replace")
                return {"ok": False, "error": f"HTTP {response.status_code}: {detail}"}
            done = False
            async for line in response.aiter_lines():
                if not line.startswith("data: "):
                    continue
                data = line[len("data: ") :]
                if data == "[DONE]":
                    done = True
                    break
                chunk = json.loads(data)
                if "error" in chunk:
                    return {"ok": False, "error": f"error event: {chunk['error'].get('message')}"}
                for choice in chunk.get("choices", []):
                    piece = (choice.get("delta") or {}).get("content")
                    if piece:
                        if first is None:
                            first = time.perf_counter() - started
                        text.append(piece)
    except Exception as exc:  # transport failures count as errors, with their reason
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    total = time.perf_counter() - started
    if not done:
        return {"ok": False, "error": "stream ended without data: [DONE]"}
    if not "".join(text).strip() or first is None:
        return {"ok": False, "error": "empty answer"}
    return {"ok": True, "first_token": first, "completion": total}


async def run_clients(
    url: str, key: str, clients: int, duration: float, offset: int = 0
) -> dict[str, Any]:
    import httpx

    results: list[dict[str, Any]] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=120, limits=limits, trust_env=False) as client:
        started = time.perf_counter()
        deadline = started + duration

        async def worker(n: int) -> None:
            i = n
            while time.perf_counter() < deadline:
                results.append(
                    await one_request(client, url, key, QUESTIONS[(offset + i) % len(QUESTIONS)])
                )
                i += clients

        await asyncio.gather(*(worker(n) for n in range(clients)))
        wall = time.perf_counter() - started
    return {"results": results, "wall": wall}


async def run_sequential(url: str, key: str, requests: int) -> list[dict[str, Any]]:
    import httpx

    async with httpx.AsyncClient(timeout=120, trust_env=False) as client:
        return [
            await one_request(client, url, key, QUESTIONS[i % len(QUESTIONS)])
            for i in range(requests)
        ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--baseline-requests", type=int, default=20)
    parser.add_argument(
        "--quick", action="store_true", help="4 clients for 5 s, 5 baseline requests"
    )
    parser.add_argument("--data-dir", type=Path, help="a data dir to use (ingested if empty)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if args.quick:
        args.clients, args.duration, args.baseline_requests = 4, 5.0, 5

    with tempfile.TemporaryDirectory(prefix="shopbot-api-bench-") as tmp:
        data_dir = args.data_dir or Path(tmp) / "data"
        env = server_env(data_dir, SHOPBOT_GENERATOR="extractive", SHOPBOT_API_RATE_PER_MINUTE="0")
        if not (data_dir / "chroma").exists():
            print(f"ingesting the demo catalog into {data_dir} ...", file=sys.stderr, flush=True)
            t = time.perf_counter()
            ingest_demo_catalog(env)
            print(f"  done in {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
        key = create_key(env, f"bench-{int(time.time())}", rate_per_minute=0)
        load_before = os.getloadavg()
        with api_server_process(env, Path(tmp) / "server") as server:
            pid = server.process.pid
            warm = asyncio.run(run_sequential(server.url, key, 2))
            rss_start = rss_mb(pid)
            baseline = asyncio.run(run_sequential(server.url, key, args.baseline_requests))
            print(
                f"load: {args.clients} clients for {args.duration:g} s ...",
                file=sys.stderr,
                flush=True,
            )
            load = asyncio.run(run_clients(server.url, key, args.clients, args.duration, offset=3))
            rss_end = rss_mb(pid)
            alive = server.process.poll() is None
        load_after = os.getloadavg()

    ok = [r for r in load["results"] if r["ok"]]
    failed = [r for r in load["results"] + baseline + warm if not r["ok"]]
    base_ok = [r for r in baseline if r["ok"]]
    result = {
        "model": "shopbot",
        "generator": "extractive",
        "clients": args.clients,
        "duration_s": args.duration,
        "quick": args.quick,
        "requests": len(ok),
        "requests_per_s": round(len(ok) / load["wall"], 2),
        "wall_s": round(load["wall"], 2),
        "first_token_ms": summary_ms([r["first_token"] for r in ok]),
        "completion_ms": summary_ms([r["completion"] for r in ok]),
        "errors": len(failed),
        "error_samples": sorted({r["error"] for r in failed})[:5],
        "server_alive_after": alive,
        "server_rss_mb": {"start": round(rss_start, 1), "end": round(rss_end, 1)},
        "baseline_single_client": {
            "requests": len(base_ok),
            "first_token_ms": summary_ms([r["first_token"] for r in base_ok]),
            "completion_ms": summary_ms([r["completion"] for r in base_ok]),
        },
        "load_average": {
            "start": [round(x, 2) for x in load_before],
            "end": [round(x, 2) for x in load_after],
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")

    b = result["baseline_single_client"]
    rows = [
        (
            "requests/s",
            f"{result['requests_per_s']:.1f} ({result['requests']} in {result['wall_s']:.0f} s, {args.clients} clients)",
        ),
        (
            "first token p50 / p95",
            f"{result['first_token_ms']['p50']:.0f} / {result['first_token_ms']['p95']:.0f} ms",
        ),
        (
            "completion p50 / p95",
            f"{result['completion_ms']['p50']:.0f} / {result['completion_ms']['p95']:.0f} ms",
        ),
        (
            "one client alone: first token / completion p50",
            f"{b['first_token_ms']['p50']:.0f} / {b['completion_ms']['p50']:.0f} ms",
        ),
        ("errors", str(result["errors"])),
        ("server RSS start → end", f"{rss_start:.0f} → {rss_end:.0f} MB"),
    ]
    print("| measure | result |\n| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")
    for sample in result["error_samples"]:
        print(f"error: {sample}", file=sys.stderr)
    print(f"wrote {args.out}", file=sys.stderr)
    return 1 if result["errors"] or not alive else 0


if __name__ == "__main__":
    raise SystemExit(main())
