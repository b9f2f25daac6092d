"""``python -m shopbot``: ingest catalog files, manage documents, search, compare products,
answer, score answers on a labelled question set, serve the HTTP API and manage its keys, set
the staff password.

Results go to stdout (text, or JSON with ``--json``); progress and logs go to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shopbot.service import CatalogService


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    from shopbot.settings import get_settings

    settings = get_settings()
    logging.basicConfig(
        level=getattr(args, "log_level", None) or settings.log_level,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # Third-party libraries are chatty at INFO; keep their warnings only.
    for name in ("httpx", "chromadb", "sentence_transformers", "unstructured", "pikepdf"):
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        return 130
    except (RuntimeError, OSError) as exc:  # StoreError, EmbeddingModelError, ...
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m shopbot", description=__doc__)
    parser.add_argument("--log-level", help="override SHOPBOT_LOG_LEVEL (DEBUG, INFO, ...)")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    ingest = commands.add_parser("ingest", help="ingest catalog files or folders")
    ingest.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    ingest.add_argument("--json", action="store_true", help="print the results as JSON")
    ingest.set_defaults(handler=_cmd_ingest)

    docs = commands.add_parser("docs", help="list or delete ingested documents")
    docs_commands = docs.add_subparsers(title="docs commands", metavar="ACTION", required=True)
    docs_list = docs_commands.add_parser("list", help="what the store holds")
    docs_list.add_argument("--json", action="store_true")
    docs_list.add_argument(
        "--hidden",
        action="store_true",
        help="list the products shoppers never see (drafts, archived, not published) instead",
    )
    docs_list.set_defaults(handler=_cmd_docs_list)
    docs_delete = docs_commands.add_parser("delete", help="remove a document and its chunks")
    docs_delete.add_argument("doc_id", metavar="ID")
    docs_delete.set_defaults(handler=_cmd_docs_delete)
    docs_reindex = docs_commands.add_parser(
        "reindex",
        help="read documents again from their kept copies (default: those an older version read)",
    )
    docs_reindex.add_argument("--all", action="store_true", help="every document")
    docs_reindex.set_defaults(handler=_cmd_docs_reindex)

    search = commands.add_parser("search", help="search the catalog")
    search.add_argument("query", metavar="QUERY", help="the query, or - for one per stdin line")
    search.add_argument("-k", type=int, default=5, help="how many hits (default 5)")
    search.add_argument("--json", action="store_true")
    search.set_defaults(handler=_cmd_search)

    ask = commands.add_parser("ask", help="answer a question from the catalog")
    ask.add_argument("question", metavar="QUESTION", help="the question, or - for one per stdin line")
    ask.add_argument("--generator", help="auto, extractive, openai, flan-t5 (default: SHOPBOT_GENERATOR)")
    ask.add_argument("--json", action="store_true", help='print {"answer": ..., "sources": [...]}')
    ask.set_defaults(handler=_cmd_ask)

    compare = commands.add_parser(
        "compare", help="compare products side by side, from their catalog records"
    )
    compare.add_argument(
        "products", nargs="+", metavar="NAME_OR_SKU",
        help='2 to 4 product names as the catalog lists them ("Alpine 2 Tent") or SKUs',
    )
    compare.add_argument("--json", action="store_true", help="print the table as JSON")
    compare.set_defaults(handler=_cmd_compare)

    chat = commands.add_parser("chat", help="an interactive conversation that keeps history")
    chat.add_argument("--generator", help="auto, extractive, openai, flan-t5 (default: SHOPBOT_GENERATOR)")
    chat.set_defaults(handler=_cmd_chat)

    evaluate = commands.add_parser(
        "eval",
        help="score answers on a labelled question set (Recall@k, filter precision, facts)",
    )
    evaluate.add_argument(
        "--questions",
        type=Path,
        metavar="FILE",
        help="JSONL question set (default: bench/eval_questions.jsonl, the demo catalog's)",
    )
    evaluate.add_argument("--generator", default="extractive", help="default: extractive")
    evaluate.add_argument("--k", type=int, default=5, help="top k sources scored (default 5)")
    evaluate.add_argument("--limit", type=int, metavar="N", help="only the first N questions")
    evaluate.add_argument("--label", default="", help="a name stored in the report, e.g. before")
    evaluate.add_argument(
        "--out", type=Path, metavar="FILE", help="also write the JSON report here"
    )
    evaluate.add_argument(
        "--catalog",
        type=Path,
        action="append",
        metavar="FILE",
        help="evaluate against a fresh temporary store holding only this file (repeat for "
        "several, ingested together; a PrestaShop combinations CSV is joined with the "
        "products CSV beside it) instead of the configured store; removed afterwards",
    )
    evaluate.add_argument("--json", action="store_true", help="print the JSON report")
    evaluate.set_defaults(handler=_cmd_eval)

    serve = commands.add_parser(
        "serve", help="the OpenAI-compatible HTTP API (/v1/chat/completions, /v1/models, /health)"
    )
    serve.add_argument("--host", help="address to listen on (default SHOPBOT_API_HOST, 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default SHOPBOT_API_PORT, 8000)")
    serve.set_defaults(handler=_cmd_serve)

    apikey = commands.add_parser("apikey", help="API keys for the HTTP API")
    apikey_commands = apikey.add_subparsers(
        title="apikey commands", metavar="ACTION", required=True
    )
    apikey_create = apikey_commands.add_parser(
        "create", help="make a key and print it (the only time it is shown)"
    )
    apikey_create.add_argument(
        "--name", required=True, help="who or what uses it, e.g. storefront-web"
    )
    apikey_create.add_argument(
        "--rate-per-minute",
        type=int,
        metavar="N",
        help="this key's own request limit (0 = none; default SHOPBOT_API_RATE_PER_MINUTE)",
    )
    apikey_create.add_argument("--json", action="store_true")
    apikey_create.set_defaults(handler=_cmd_apikey_create)
    apikey_list = apikey_commands.add_parser(
        "list", help="name, prefix, created, last used (never the key)"
    )
    apikey_list.add_argument("--json", action="store_true")
    apikey_list.set_defaults(handler=_cmd_apikey_list)
    apikey_revoke = apikey_commands.add_parser("revoke", help="stop a key from working (at once)")
    apikey_revoke.add_argument("key", metavar="NAME_OR_PREFIX")
    apikey_revoke.set_defaults(handler=_cmd_apikey_revoke)

    staff = commands.add_parser("staff", help="staff login for the app's catalog pages")
    staff_commands = staff.add_subparsers(title="staff commands", metavar="ACTION", required=True)
    set_password = staff_commands.add_parser(
        "set-password",
        help="hash a new staff password (asked twice; read from stdin when not a terminal)",
    )
    set_password.add_argument(
        "--write-secrets",
        type=Path,
        metavar="PATH",
        help="also write the hash to this secrets.toml (e.g. .streamlit/secrets.toml); "
        "other lines are kept, the file is made private (0600)",
    )
    set_password.set_defaults(handler=_cmd_staff_set_password)
    return parser


def _service() -> CatalogService:
    from shopbot.service import CatalogService

    return CatalogService()


# -- ingest ------------------------------------------------------------------------------


def _cmd_ingest(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    service = _service()
    for note in service.recovered:
        print(f"note: {note}")
    service.ingestor.on_wait = lambda message: print(message, file=sys.stderr, flush=True)
    with tqdm(total=0, unit="file", file=sys.stderr, disable=None, leave=False) as bar:

        def on_file(result: Any, done: int, total: int) -> None:
            bar.total = total
            bar.set_postfix_str(f"{result.source}: {result.status}")
            bar.update(1)

        results = service.ingest(args.paths, on_file=on_file)
    counts = Counter(r.status for r in results)
    summary = {s: counts.get(s, 0) for s in ("added", "updated", "unchanged", "failed")}
    if args.json:
        print(json.dumps({"summary": summary, "files": [r.to_dict() for r in results]}, indent=2))
    else:
        for r in results:
            detail = r.error if r.status == "failed" else f"{r.products} products, {r.chunks} chunks"
            if r.replaced:
                detail += f", replaced {r.replaced} older product records (same SKU)"
            print(f"{r.status:<9}  {r.source}  {detail}")
            for note in r.notes:
                print(f"{'':<9}  note: {note}")
        print(", ".join(f"{n} {s}" for s, n in summary.items()))
    return 1 if summary["failed"] else 0


# -- docs --------------------------------------------------------------------------------


def _cmd_docs_list(args: argparse.Namespace) -> int:
    from shopbot.hidden_products import hidden_products, products_note, statuses_by_document

    service = _service()
    docs = service.documents()
    hidden = hidden_products(service.store)
    if args.hidden:
        return _print_hidden(hidden, args.json)
    statuses = statuses_by_document(hidden)
    if args.json:
        print(json.dumps(
            [{**d.to_dict(), "hidden": dict(statuses.get(d.doc_id, {}))} for d in docs], indent=2
        ))
        return 0
    if not docs:
        print("No documents. Add some with: python -m shopbot ingest PATH")
        return 0
    from shopbot.safety import parse_flags
    from shopbot.store import format_time

    rows = []
    for d in docs:
        # Text that reads like instructions to an AI, found at ingest (shopbot/safety.py).
        flagged = len(parse_flags(getattr(d, "flags", "")))
        rows.append(
            (
                d.doc_id,
                d.source,
                d.kind,
                # "4 (2 hidden: 1 draft, 1 archived)": counted, never offered to shoppers.
                products_note(d.products, statuses.get(d.doc_id)),
                str(d.chunks),
                d.ingested_at,
                format_time(d.last_updated),
                d.superseded_note(),
                f"needs review ({flagged})" if flagged else "",
            )
        )
    _print_table(
        (
            "id", "source", "kind", "products", "chunks", "ingested_at", "updated", "superseded",
            "review",
        ),
        rows,
    )
    return 0


def _print_hidden(hidden: Sequence[Any], as_json: bool) -> int:
    if as_json:
        print(json.dumps([p.to_dict() for p in hidden], indent=2))
        return 0
    if not hidden:
        print("No hidden products: shoppers can be offered every product in the store.")
        return 0
    _print_table(
        ("id", "title", "status", "source"),
        [(p.id, p.title, p.status_word, p.source) for p in hidden],
    )
    return 0


def _cmd_docs_delete(args: argparse.Namespace) -> int:
    service = _service()
    outcome = service.remove_document(args.doc_id)
    if outcome.deleted:
        print(f"deleted {args.doc_id}")
        for result in outcome.restored:
            if result.ok:
                print(f"restored {result.source} ({result.products} products)")
            else:
                print(f"warning: {result.source}: {result.error}", file=sys.stderr)
        return 0
    print(
        f"error: no document with id {args.doc_id!r}; `python -m shopbot docs list` shows the ids",
        file=sys.stderr,
    )
    return 1


def _cmd_docs_reindex(args: argparse.Namespace) -> int:
    service = _service()

    def progress(result, done: int, total: int) -> None:
        state = f"{result.products} products" if result.ok else f"failed: {result.error}"
        print(f"[{done}/{total}] {result.source}: {state}", file=sys.stderr)

    results = service.reindex_all(on_file=progress, outdated_only=not args.all)
    failed = [r for r in results if not r.ok]
    print(f"re-indexed {len(results) - len(failed)} of {len(results)} documents")
    return 1 if failed else 0


# -- search ------------------------------------------------------------------------------


def _cmd_search(args: argparse.Namespace) -> int:
    if args.k < 1:
        print("error: -k must be at least 1", file=sys.stderr)
        return 2
    service = _service()
    if args.query == "-":
        # One output line per input line (a blank query gives []), so callers can zip them.
        for line in sys.stdin:
            hits = service.search(line, k=args.k) if line.strip() else []
            print(json.dumps([h.to_dict() for h in hits]), flush=True)
        return 0
    hits = service.search(args.query, k=args.k)
    if args.json:
        print(json.dumps([h.to_dict() for h in hits], indent=2))
        return 0
    if not hits:
        print("No matches.")
    for rank, hit in enumerate(hits, start=1):
        price = f"  {hit.price:,.2f} {hit.currency or ''}".rstrip() if hit.price is not None else ""
        print(f"{rank}. {hit.title}{price}  [{hit.source}]  score {hit.score:.3f}")
        print(f"   {hit.snippet}")
    return 0


# -- compare -----------------------------------------------------------------------------


def _cmd_compare(args: argparse.Namespace) -> int:
    from shopbot.compare import MAX_PRODUCTS, Comparison, resolve_products

    if not 2 <= len(args.products) <= MAX_PRODUCTS:
        print(
            f"error: name 2 to {MAX_PRODUCTS} products, e.g. "
            'python -m shopbot compare "Alpine 2 Tent" RL-TNT-003',
            file=sys.stderr,
        )
        return 2
    service = _service()
    records = resolve_products(service.store, args.products)
    missing = [name for name, record in zip(args.products, records) if record is None]
    if missing:
        for name in missing:
            print(
                f"error: no product matches {name!r}. Type its name as the catalog lists it "
                f"or its SKU; `python -m shopbot search {json.dumps(name)}` shows the closest "
                "products.",
                file=sys.stderr,
            )
        return 2
    comparison = Comparison.from_records(r for r in records if r is not None)
    if len(comparison.products) < 2:
        print(
            f"error: {', '.join(repr(n) for n in args.products)} all name the same product "
            f"({comparison.products[0]['title']}); name two different ones",
            file=sys.stderr,
        )
        return 2
    if args.json:
        print(json.dumps(comparison.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(comparison.to_markdown())
    return 0


# -- ask / chat --------------------------------------------------------------------------


def _assistant(args: argparse.Namespace):
    from shopbot.generators import UnknownGenerator

    try:
        return _service().assistant(args.generator)
    except UnknownGenerator as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _print_sources(sources: Sequence[Any]) -> None:
    if not sources:
        return
    print("\nSources:")
    for number, source in enumerate(sources, start=1):
        price = f", {source.price:,.2f} {source.currency or ''}".rstrip() if source.price is not None else ""
        where = source.source + (f" p.{source.page}" if source.page else "")
        note = f" — {source.note}" if getattr(source, "note", "") else ""
        print(f"  [{number}] {source.title}{price} ({where}){note}")


def _print_extras(answer: Any) -> None:
    """What an answer shows besides its text: a comparison table from the records."""
    if answer.comparison is not None:
        print()
        print(answer.comparison.to_markdown())


def _cmd_ask(args: argparse.Namespace) -> int:
    from shopbot.generators import GeneratorUnavailable

    assistant = _assistant(args)
    try:
        if args.question == "-":
            # One JSON object per input line; the models load once for the whole batch.
            for line in sys.stdin:
                if not line.strip():
                    print(json.dumps({"answer": "", "sources": []}), flush=True)
                    continue
                answer = assistant.ask(line.strip())
                print(json.dumps(answer.to_dict()), flush=True)
            return 0
        stream = assistant.stream(args.question)
        if args.json:
            print(json.dumps(stream.complete().to_dict(), indent=2))
            return 0
        for piece in stream:
            print(piece, end="", flush=True)
        print()
        _print_extras(stream.complete())
        _print_sources(stream.sources)
        return 1 if stream.answer and stream.answer.failed else 0
    except GeneratorUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _cmd_chat(args: argparse.Namespace) -> int:
    from shopbot.constraints import Constraints
    from shopbot.generators import GeneratorUnavailable, Turn

    assistant = _assistant(args)
    history: list[Turn] = []
    # Budget, brand, colour, size and stock filters stay on until dropped or changed.
    filters = Constraints()
    interactive = sys.stdin.isatty()
    if interactive:
        print(
            f"shopbot chat ({assistant.generator.name}). Empty line or Ctrl-D to leave; "
            "/drop FILTER (or /drop all) removes a remembered filter."
        )
    while True:
        try:
            question = input("you> " if interactive else "")
        except EOFError:
            break
        if not question.strip() or question.strip().lower() in {"exit", "quit"}:
            break
        if question.strip().startswith("/drop"):
            chip = question.strip()[len("/drop"):].strip()
            if chip == "all":
                filters = Constraints()
            elif chip in filters.chips():
                filters = filters.without(chip)
            else:
                print(f"no filter {chip!r}; active: {', '.join(filters.chips()) or 'none'}")
                continue
            print(f"filters: {', '.join(filters.chips()) or 'none'}")
            continue
        try:
            stream = assistant.stream(question, history, filters)
        except GeneratorUnavailable as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print("bot> ", end="", flush=True)
        for piece in stream:
            print(piece, end="", flush=True)
        print()
        answer = stream.complete()
        _print_extras(answer)
        _print_sources(stream.sources)
        if answer.constraints is not None:
            filters = answer.remember
        if filters:
            print(f"(filters: {', '.join(filters.chips())})")
        history += [Turn("user", question), Turn("assistant", answer.text)]
    return 0


# -- eval --------------------------------------------------------------------------------


def _cmd_eval(args: argparse.Namespace) -> int:
    from shopbot.evaluation import (
        CatalogFileError,
        QuestionFileError,
        load_questions,
        temporary_catalog,
    )

    if args.k < 1 or (args.limit is not None and args.limit < 1):
        print("error: --k and --limit must be at least 1", file=sys.stderr)
        return 2
    try:
        questions = load_questions(args.questions)
    except QuestionFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.limit:
        questions = questions[: args.limit]
    if args.catalog:
        try:
            with temporary_catalog(args.catalog) as catalog:
                for note in catalog.notes:
                    print(f"note: {note}", file=sys.stderr)
                for r in catalog.results:
                    print(f"{r.status:<9}  {r.source}  {r.products} products", file=sys.stderr)
                return _run_eval(args, catalog.service, questions, catalog.summary())
        except CatalogFileError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    service = _service()
    if service.store.count_chunks() == 0:
        print(
            f"error: the catalog in {service.settings.data_dir} is empty; ingest the catalog the "
            "questions are about first (`python -m shopbot ingest catalog/` for the demo set), "
            "or name the catalog files with --catalog",
            file=sys.stderr,
        )
        return 1
    return _run_eval(args, service, questions)


def _run_eval(
    args: argparse.Namespace,
    service: CatalogService,
    questions: Sequence[Any],
    catalog: list[dict[str, Any]] | None = None,
) -> int:
    from shopbot.evaluation import format_table, run_eval
    from shopbot.generators import GeneratorUnavailable, UnknownGenerator

    try:
        report = run_eval(service, questions, generator=args.generator, k=args.k, label=args.label)
        if catalog is not None:
            report["catalog"] = catalog
    except UnknownGenerator as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except GeneratorUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print(format_table(report))
        if args.out:
            print(f"report written to {args.out}")
    return 0


# -- serve / apikey ----------------------------------------------------------------------


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from shopbot.api import create_app
    from shopbot.api.timeouts import timed_http_protocol
    from shopbot.apikeys import CREATE_COMMAND, APIKeyStore
    from shopbot.generators import UnknownGenerator, resolve_name
    from shopbot.settings import get_settings

    settings = get_settings()
    host = args.host or settings.api_host
    port = args.port or settings.api_port
    try:
        generator = resolve_name(settings)
    except UnknownGenerator as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _check_can_listen(host, port)  # before the slow start, not after it
    service = _service()
    stats = service.stats()
    if stats["chunks"] == 0:
        print(
            f"warning: the catalog in {settings.data_dir} is empty, so every answer will say "
            "nothing matches. serve adds nothing by itself: ingest documents with "
            "`python -m shopbot ingest PATH` (e.g. catalog/).",
            file=sys.stderr,
        )
    keys = APIKeyStore.from_settings(settings)
    active = keys.count_active() if settings.api_keys_path.exists() else 0
    if not active:
        print(
            f"warning: no API keys yet, so every request gets 401: `{CREATE_COMMAND}`.",
            file=sys.stderr,
        )
    app = create_app(service, keys=keys)
    shown = f"[{host}]" if ":" in host else host
    print(
        f"shopbot API on http://{shown}:{port}/v1 (health: http://{shown}:{port}/health); "
        f"catalog: {stats['documents']} documents, {stats['products']} products; "
        f"model shopbot answers with {generator}; {active} active API key(s). Ctrl-C stops it.",
        flush=True,
    )
    level = (args.log_level or settings.log_level).lower()
    if level not in ("critical", "error", "warning", "info", "debug"):
        level = "warning"
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=level,
        timeout_graceful_shutdown=5,
        server_header=False,
        # uvicorn has no header read timeout: this protocol adds one (shopbot/api/timeouts.py).
        http=timed_http_protocol(settings.api_header_timeout, settings.api_body_timeout),
    )
    return 0


def _check_can_listen(host: str, port: int) -> None:
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        socket.create_server((host, port), family=family).close()
    except OSError as exc:
        raise OSError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}): another server may be "
            "using the port (a Chroma server defaults to 8000 too); choose one with --port"
        ) from None


def _key_store():
    from shopbot.apikeys import APIKeyStore
    from shopbot.settings import get_settings

    return APIKeyStore.from_settings(get_settings())


def _cmd_apikey_create(args: argparse.Namespace) -> int:
    from shopbot.apikeys import APIKeyError

    try:
        key, record = _key_store().create(args.name, rate_per_minute=args.rate_per_minute)
    except APIKeyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"key": key, **record.to_dict()}, indent=2))
    else:
        print(key)
    print(
        f"Created API key {record.name!r} ({record.prefix}…). This is the only time it is "
        "shown: store it now. Clients send it as `Authorization: Bearer <key>`.",
        file=sys.stderr,
    )
    return 0


def _cmd_apikey_list(args: argparse.Namespace) -> int:
    keys = _key_store().list()
    if args.json:
        print(json.dumps([k.to_dict() for k in keys], indent=2))
        return 0
    if not keys:
        print("No API keys. Make one with: python -m shopbot apikey create --name NAME")
        return 0
    rows = []
    for k in keys:
        d = k.to_dict()
        if k.rate_per_minute is None:
            limit = "default"
        else:
            limit = str(k.rate_per_minute) if k.rate_per_minute else "none"
        last_used = d["last_used_at"] or "never"
        rows.append((k.name, f"{k.prefix}…", d["status"], d["created_at"], last_used, limit))
    _print_table(("name", "prefix", "status", "created", "last used", "rate/min"), rows)
    return 0


def _cmd_apikey_revoke(args: argparse.Namespace) -> int:
    from shopbot.apikeys import APIKeyError

    try:
        record = _key_store().revoke(args.key)
    except APIKeyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"revoked {record.name} ({record.prefix}…)")
    return 0


# -- staff -------------------------------------------------------------------------------


def _cmd_staff_set_password(args: argparse.Namespace) -> int:
    from shopbot.auth import HASH_ENV_VAR, SECRETS_FILE, SECRETS_KEY, hash_password

    password = _read_new_password()
    if password is None:
        return 1
    try:
        hashed = hash_password(password)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(hashed)
    if args.write_secrets:
        _write_secret(args.write_secrets, SECRETS_KEY, hashed)
        print(f"\nWrote {SECRETS_KEY} to {args.write_secrets} (mode 0600). Restart the app.")
        return 0
    print(
        f"\nAdd this line to {SECRETS_FILE} (keep that file out of version control):\n"
        f'  {SECRETS_KEY} = "{hashed}"\n'
        "or set it in the environment (or .env), in single quotes so the shell keeps the $:\n"
        f"  {HASH_ENV_VAR}='{hashed}'\n"
        "The environment wins over secrets.toml. Restart the app afterwards."
    )
    return 0


def _read_new_password() -> str | None:
    """The new password: asked twice on a terminal, else one line of stdin. None on error."""
    if sys.stdin is None:
        print("error: no stdin to read the password from", file=sys.stderr)
        return None
    if sys.stdin.isatty():
        import getpass

        first = getpass.getpass("New staff password: ")
        if getpass.getpass("Repeat it: ") != first:
            print("error: the two passwords differ; nothing changed", file=sys.stderr)
            return None
        return first
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        print("error: no password on stdin (expected one line)", file=sys.stderr)
        return None
    return line


def _write_secret(path: Path, key: str, value: str) -> None:
    """Set the top-level ``key = "value"`` of the TOML file ``path``, keeping its other lines;
    the file is created if missing and left readable by its owner only."""
    import os
    import re
    import tempfile
    import tomllib

    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if text:
        try:
            tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise OSError(f"{path} is not valid TOML ({exc}); fix it or add the line by hand")
    line = f'{key} = "{value}"\n'
    assignment = re.compile(rf"^\s*{re.escape(key)}\s*=")
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    # A top-level key must come before the first [table] header.
    tables = (i for i, ln in enumerate(lines) if ln.lstrip().startswith("["))
    first_table = next(tables, len(lines))
    existing = [i for i in range(first_table) if assignment.match(lines[i])]
    if existing:
        lines[existing[0]] = line
        for i in reversed(existing[1:]):
            del lines[i]
    else:
        lines.insert(first_table, line)
    new_text = "".join(lines)
    if tomllib.loads(new_text).get(key) != value:
        raise OSError(f"could not set {key} in {path}; add the line by hand")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(new_text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    os.chmod(path, 0o600)


def _print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    for row in (header, *rows):
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
