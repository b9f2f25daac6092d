"""Print the README's benchmark table from bench/results/*.json (run after the benches).

    .venv/bin/python bench/report.py            # print the table
    .venv/bin/python bench/report.py --readme   # and replace the table in README.md
"""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def _load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _mark(met: bool) -> str:
    return "met" if met else "**missed**"


def rows() -> list[tuple[str, str, str, str]]:
    out: list[tuple[str, str, str, str]] = []
    ingest = _load("ingest")
    if ingest:
        csv = next(v for k, v in ingest["datasets"].items() if k.startswith("generated"))
        demo = ingest["datasets"]["demo catalog"]
        out += [
            ("ingest: 10,000-product CSV, throughput vs raw encode", f"{ingest['throughput_ratio_vs_encode']:.2f}× ({csv['products_per_second']:.1f} vs {csv['encode_products_per_second']:.1f} products/s)", "≥ 0.8", _mark(ingest["met"]["throughput_ratio_vs_encode"])),
            ("ingest: demo catalog (22 files, parsed with unstructured), vs raw encode", f"{demo['ratio']:.2f}×", "(reported)", ""),
            ("ingest: unchanged re-ingest speed-up, 10,000-product CSV", f"{ingest['reingest_speedup']:,.0f}× ({csv['reingest_seconds'] * 1000:.0f} ms vs {csv['ingest_seconds']:.0f} s)", "≥ 50", _mark(ingest["met"]["reingest_speedup"])),
        ]
    query = _load("query")
    if query:
        for size, r in query["retrieval"].items():
            out.append((f"retrieval (hybrid: dense + BM25, filters) p50 at {int(size):,} products vs embed + raw Chroma query", f"{r['ratio_p50']:.2f}× ({r['p50_ms']:.0f} vs {r['baseline_p50_ms']:.0f} ms)", "≤ 1.3", _mark(r["ratio_p50"] <= query["targets"]["retrieval_ratio"])))
        for size, f in query.get("filtered", {}).items():
            headline = size == str(max(map(int, query["filtered"])))
            out.append((f"filtered retrieval p50 at {int(size):,} products vs the same questions unfiltered (p95 ratio {f['ratio_p95']:.2f}; index build {query['index_build_s'][size]:.1f} s)", f"{f['ratio_p50']:.2f}× ({f['p50_ms']:.0f} vs {f['unfiltered_p50_ms']:.0f} ms)", "≤ 1.5" if headline else "(reported)", _mark(f["ratio_p50"] <= query["targets"]["filtered_ratio"]) if headline else ""))
        out += [
            ("extractive answer on top of retrieval, p50 / p95", f"{query['extractive_overhead_ms_p50']:.0f} / {query['extractive_overhead_ms_p95']:.0f} ms", "p50 ≤ 60 ms", _mark(query["met"]["extractive_overhead_ms_p50"])),
            ("flan-t5 (tiny) streamed tokens/s vs raw generate", f"{query['flan_t5_ratio']:.2f}× ({query['flan_t5_streamed_tokens_per_s']:.0f} vs {query['flan_t5_raw_tokens_per_s']:.0f} tok/s)", "≥ 0.9", _mark(query["met"]["flan_t5_ratio"])),
        ]
    app = _load("app")
    if app:
        out += [
            ("browser: submit → first answer token, p50 / p95", f"{app['first_token_ms']['p50']:.0f} / {app['first_token_ms']['p95']:.0f} ms", "p50 ≤ 300 ms", _mark(app["met"]["first_token_ms_p50"])),
            ("browser: submit → full answer, p50 / p95", f"{app['full_answer_ms']['p50']:.0f} / {app['full_answer_ms']['p95']:.0f} ms", "p50 ≤ 1 s", _mark(app["met"]["full_answer_ms_p50"])),
            ("browser: cold start to a ready chat", f"{app['cold_start_s']:.1f} s", "≤ 20 s", _mark(app["met"]["cold_start_s"])),
        ]
    api = _load("api")
    if api:
        ft, done, rss = api["first_token_ms"], api["completion_ms"], api["server_rss_mb"]
        out += [
            (f"API: {api['clients']} streaming clients for {api['duration_s']:.0f} s (shopbot, extractive): requests/s, errors", f"{api['requests_per_s']:.1f} req/s, {api['errors']} errors", "0 errors", _mark(api["errors"] == 0)),
            ("API under that load: first token / completion, p50 / p95", f"{ft['p50']:.0f} / {ft['p95']:.0f} ms, {done['p50']:.0f} / {done['p95']:.0f} ms", "(reported)", ""),
            ("API: server memory (RSS) at start → end of the load", f"{rss['start']:.0f} → {rss['end']:.0f} MB", "(reported)", ""),
        ]
    for name, where in (("finetune", "CPU"), ("finetune-gpu", "GPU")):
        ft = _load(name)
        if not ft:
            continue
        lora, full = ft["lora"], ft["full"]
        setup = f"{where}, T5 {full['total_parameters'] / 1e6:,.0f} M, batch {ft['batch_size']}"
        if ft.get("gradient_checkpointing"):
            setup += ", gradient checkpointing"
        out += [
            (f"fine-tune ({setup}): LoRA trainable parameters", f"{ft['trainable_pct']:.2f}% ({lora['trainable_parameters']:,})", "≤ 1.5%", _mark(ft["met"]["trainable_pct"])),
            (f"fine-tune ({setup}): LoRA peak memory vs full", f"{ft['peak_memory_ratio']:.2f}× ({lora['peak_memory_mb']:,.0f} vs {full['peak_memory_mb']:,.0f} MB)", "≤ 0.7", _mark(ft["met"]["peak_memory_ratio"])),
            (f"fine-tune ({setup}): adapter vs full checkpoint size", f"{ft['adapter_size_ratio'] * 100:.2f}% ({lora['saved_bytes'] / 2**20:,.1f} vs {full['saved_bytes'] / 2**20:,.0f} MiB)", "≤ 2%", _mark(ft["met"]["adapter_size_ratio"])),
            (f"fine-tune ({setup}): LoRA step time vs full", f"{ft['step_time_ratio']:.2f}× ({lora['step_time_s_median']:.2f} vs {full['step_time_s_median']:.2f} s)", "(reported)", ""),
        ]
    return out


def table() -> str:
    lines = ["| measure | result | target | |", "| --- | --- | --- | --- |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows()]
    return "\n".join(lines)


def write_readme(text: str, readme: Path = RESULTS.parent.parent / "README.md") -> None:
    """Replace the first table whose header is the benchmark header."""
    lines = readme.read_text().split("\n")
    start = lines.index("| measure | result | target | |")
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    lines[start:end] = text.split("\n")
    readme.write_text("\n".join(lines))


def main() -> None:
    import sys

    text = table()
    print(text)
    if "--readme" in sys.argv[1:]:
        write_readme(text)


if __name__ == "__main__":
    main()
