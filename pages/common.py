"""What the Streamlit pages share: process-wide objects (built once, shared by every session,
so they must be thread-safe), the staff gate, and how sources and feedback are drawn.
Everything here is presentation; answers, storage and auth live in shopbot/."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import streamlit as st

from shopbot.cards import ProductCard, for_shoppers, product_card
from shopbot.safety import LinkPolicy, safe_markdown, stream_markdown, strip_markup
from shopbot.service import CatalogService
from shopbot.settings import Settings

log = logging.getLogger("shopbot.app")

# Hosts under these reserved top-level domains never resolve (the demo shop uses .example).
_UNREACHABLE_TLDS = (".example", ".invalid", ".test", ".localhost")
# Drawn on a product card whose image cannot be shown (none, an unreachable host, or a host
# the link policy refuses). A local file: st.image sends an SVG inline as a data: URI.
PLACEHOLDER_IMAGE = Path(__file__).resolve().parent / "static" / "product-placeholder.svg"


# -- process-wide objects ---------------------------------------------------------------


@st.cache_resource(show_spinner="Opening the catalog…")
def catalog_service() -> CatalogService:
    settings = Settings()
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    return CatalogService(settings)


@st.cache_resource
def feedback_store():
    from shopbot.feedback import FeedbackStore

    return FeedbackStore.from_settings(catalog_service().settings)


@st.cache_resource(show_spinner="Loading the answer model…")
def _shared_assistant(overrides: tuple[tuple[str, Any], ...], kind: str = ""):
    service = catalog_service()
    return service.with_settings(dict(overrides)).assistant()


def _generator_kind(overrides: dict[str, Any]) -> str:
    """The backend the settings pick now. With SHOPBOT_GENERATOR=auto that depends on whether
    a fine-tuned adapter is activated (a small file any process may write), so it is part of
    the cache key: activating the first adapter switches the next answer to flan-t5. A loaded
    flan-t5 generator follows later (de)activations by itself."""
    from shopbot.generators import resolve_name

    settings = catalog_service().settings.model_copy(update=overrides)
    try:
        return resolve_name(settings)
    except ValueError:  # an unknown name: assistant() raises the helpful error
        return settings.generator


def active_assistant():
    """The assistant for this session: the shop's default, or what staff picked on the Model
    page. A session that typed its own API key gets its own instance, kept in the session
    only, so the key is never shared, cached or written anywhere."""
    overrides: dict[str, Any] = st.session_state.get("model_overrides", {})
    kind = _generator_kind(overrides)
    secret = st.session_state.get("session_api_key")
    if secret:
        cache_key = (tuple(sorted(overrides.items())), id(secret), kind)
        cached = st.session_state.get("_private_assistant")
        if cached is None or cached[0] != cache_key:
            assistant = catalog_service().with_settings({**overrides, "openai_api_key": secret}).assistant()
            st.session_state["_private_assistant"] = (cache_key, assistant)
        return st.session_state["_private_assistant"][1]
    return _shared_assistant(tuple(sorted(overrides.items())), kind)


def session_id() -> str:
    return st.session_state.setdefault("session_id", uuid.uuid4().hex)


# -- first start ---------------------------------------------------------------------------


@st.cache_resource
def start_seeding() -> bool:
    """Once per process: seed (or finish seeding) the demo catalog in a background thread of
    the server, outside any visitor's session, so closing a tab cannot stop it."""
    catalog_service().start_seeding()
    return True


def seeding_notice(service: CatalogService) -> str:
    """"" when the catalog is complete; else what every visitor is told (from the state kept
    in the store, so another replica's seeding shows too)."""
    state = service.seeding_state()
    if not state or state.get("status") == "done":
        return ""
    done, total = int(state.get("done") or 0), int(state.get("total") or 0)
    progress = f" ({done} of {total} files loaded)" if total else ""
    return (
        f"We are still setting up the catalog{progress}, so answers may miss products for a "
        "minute or two."
    )


@st.fragment(run_every=2)
def _seeding_progress(service: CatalogService) -> None:
    notice = seeding_notice(service)
    if not notice:
        st.rerun()  # the whole page: stops this refresh and drops the notice
    state = service.seeding_state() or {}
    st.info(notice, icon=":material/hourglass_top:")
    st.progress(int(state.get("done") or 0) / max(int(state.get("total") or 0), 1))


def seeding_banner(service: CatalogService) -> None:
    """The seeding progress, refreshed every 2 s while it lasts (nothing once complete)."""
    if seeding_notice(service):
        _seeding_progress(service)


# -- staff -----------------------------------------------------------------------------


def _secret(name: str) -> Any:
    try:
        return st.secrets.get(name)
    except Exception:  # no secrets.toml at all: that is fine
        return None


def oidc_configured() -> bool:
    return bool(_secret("auth"))


@st.cache_resource
def staff_auth():
    from shopbot.auth import StaffAuth

    return StaffAuth.from_settings(catalog_service().settings, _secret("staff_password_hash"))


def is_staff() -> bool:
    if oidc_configured():
        return bool(getattr(st.user, "is_logged_in", False))
    return st.session_state.get("staff") is True


def require_staff() -> None:
    """Staff pages call this first: a shopper who guesses the URL sees nothing of them."""
    if not is_staff():
        st.warning("This page is for store staff. Sign in on the Staff page first.")
        st.stop()


# -- drawing answers -------------------------------------------------------------------


# Catalog text and answers are drawn through shopbot.safety's one sanitiser: no images, HTML
# or links from text, only a product's own URL where SHOPBOT_LINK_HOSTS allows it.


def md_escape(text: str) -> str:
    """Catalog text (a title, a table cell, a caption) as Markdown that reads exactly as
    written: it cannot format itself, draw an image, make a link or turn "$10 to $20" into
    LaTeX."""
    return safe_markdown(str(text), literal=True)


def link_policy(sources: list[Any] | tuple[Any, ...] = ()) -> LinkPolicy:
    """The links an answer built from ``sources`` may carry (see shopbot.safety.LinkPolicy)."""
    return LinkPolicy.for_sources(sources, catalog_service().settings.link_hosts)


def answer_markdown(text: str, sources: list[Any] | tuple[Any, ...] = ()) -> str:
    """An answer as safe Markdown: its lists and bold stay; images, HTML and links other than
    its sources' own product URLs go; a price's "$" does not start LaTeX."""
    return safe_markdown(str(text), link_policy(sources))


def answer_stream(pieces: Any, sources: list[Any] | tuple[Any, ...] = ()) -> Any:
    """:func:`answer_markdown` for ``st.write_stream``: an image or link split across pieces
    is never drawn half-checked."""
    return stream_markdown(pieces, link_policy(sources))


def _shown_image(url: str, policy: LinkPolicy) -> bool:
    host = (urlparse(url or "").hostname or "").lower()
    return policy.allows_image(url) and not host.endswith(_UNREACHABLE_TLDS)


def _card_image(card: ProductCard, policy: LinkPolicy) -> None:
    """The product's main image, or the local placeholder where it cannot be shown."""
    if _shown_image(card.image, policy):
        st.image(card.image, width="stretch", alt=card.title.strip() or None)
    else:
        st.image(str(PLACEHOLDER_IMAGE), width="stretch", alt="No product image")


def render_sources(
    sources: list[dict[str, Any]], compare_key: str | None = None, answer: str = ""
) -> None:
    """Product cards for products, expandable citations for passages, numbered as cited.
    When ``answer`` cites sources ([n]), only those are drawn: the cards come from the very
    records the answer states (an answer that cites nothing shows everything retrieved).
    Each product card has a "Compare" box (see :func:`comparison_tray`); ``compare_key``
    tells one answer's boxes from another's (default: this list of sources)."""
    from shopbot.factcheck import cited_numbers

    if not sources:
        return
    cited_only = set(cited_numbers(answer))
    compare_scope = compare_key or f"{id(sources):x}"
    links = link_policy(sources)
    # One card per product, however many of its files were retrieved (the CSV row, its page,
    # its spec sheet); the card lists every source number the answer may cite for it.
    products: dict[str, tuple[list[int], dict[str, Any]]] = {}
    passages: list[tuple[int, dict[str, Any]]] = []
    for number, source in enumerate(sources, 1):
        if cited_only and number not in cited_only and not _same_product(
            source, sources, cited_only
        ):
            continue
        if not for_shoppers(source):  # the index never offers one; kept out here too
            continue
        if source.get("price") is not None or source.get("kind") == "product":
            key = source.get("id") or source.get("title")
            numbers, shown = products.get(key, ([], source))
            if source.get("kind") == "product" and shown.get("kind") != "product":
                shown = source  # the product record has the most fields
            products[key] = ([*numbers, number], shown)
        else:
            passages.append((number, source))
    if products:
        per_row = min(3, len(products))
        # Row by row: on a phone, where columns stack, the cards keep the answer's order.
        slots = [column for _ in range(0, len(products), per_row) for column in st.columns(per_row)]
        for column, (numbers, product) in zip(slots, products.values()):
            # Price, sale, options and stock of the variants the question named, if any
            # (shopbot.cards); every field is catalog text, drawn escaped.
            card = product_card(product)
            with column.container(border=True):
                _card_image(card, links)
                cited = " ".join(f"\\[{n}\\]" for n in numbers)
                st.markdown(f"**{md_escape(card.title)}** {cited}")
                st.caption(" · ".join(md_escape(f) for f in card.facts()))
                if card.options:
                    st.caption(md_escape(card.options))
                if card.note:  # shown although it does not fit the filters
                    st.caption(f":orange[{md_escape(card.note.capitalize())}]")
                if links.allows(card.url):
                    st.link_button("View product", card.url, width="stretch")
                if product.get("id"):
                    _compare_box(compare_scope, product)
    for number, passage in passages:
        where = passage.get("source", "")
        if passage.get("page"):
            where += f", page {passage['page']}"
        label = f"[{number}] {passage.get('title', '')} — {passage.get('section', '')} ({where})"
        with st.expander(md_escape(label)):
            st.text(strip_markup(passage.get("snippet", "")))


def _same_product(source: dict[str, Any], sources: list[dict[str, Any]], cited: set[int]) -> bool:
    """Whether ``source`` belongs to a product the answer cites through another of its
    chunks (its record fills the card when the answer cites its spec sheet)."""
    key = source.get("id")
    return bool(key) and any(
        sources[n - 1].get("id") == key for n in cited if 1 <= n <= len(sources)
    ) and source.get("kind") == "product"


def render_corrections(message: dict[str, Any]) -> None:
    """A caption under an answer saying what the catalog check changed: "Checked against the
    catalog: price of Alpine 2 Tent corrected to $349.00". Reads the message's
    "corrections" (``Correction.to_dict()`` items) and "flagged" (sentences)."""
    corrections = message.get("corrections") or []
    flagged = message.get("flagged") or []
    if not corrections and not flagged:
        return
    parts = [
        f"{c.get('field') or 'value'} of {c.get('title') or c.get('source_id', '')} "
        f"corrected to {c.get('new', '')}"
        for c in corrections
    ]
    if flagged:
        count = len(flagged)
        parts.append(
            f"{count} sentence{'s' if count > 1 else ''} not confirmed by the catalog (marked ⚠)"
        )
    st.caption(md_escape("Checked against the catalog: " + "; ".join(parts)))


# -- comparing products ------------------------------------------------------------------

_PICK = "compare_pick"  # widget keys: f"{_PICK}|{scope}|{product id}"


def _compare_box(scope: str, product: dict[str, Any]) -> None:
    product_id = str(product["id"])
    key = f"{_PICK}|{scope}|{product_id}"
    if key not in st.session_state:  # a new card of a product already picked starts ticked
        st.session_state[key] = product_id in st.session_state.get("compare_ids", [])
    st.checkbox(
        "Compare",
        key=key,
        on_change=_toggle_compare,
        args=(key, product_id, str(product.get("title", ""))),
        help="Tick two to four products, then press Compare below the chat",
    )


def _toggle_compare(key: str, product_id: str, title: str) -> None:
    from shopbot.compare import MAX_PRODUCTS

    state = st.session_state
    picked: list[str] = state.setdefault("compare_ids", [])
    checked = bool(state.get(key))
    if checked and product_id not in picked:
        if len(picked) >= MAX_PRODUCTS:
            state[key] = False
            st.toast(f"You can compare up to {MAX_PRODUCTS} products at a time.")
            return
        picked.append(product_id)
        state.setdefault("compare_titles", {})[product_id] = title
    elif not checked and product_id in picked:
        picked.remove(product_id)
    # The same product's box on other answers' cards follows.
    for other in [k for k in state if isinstance(k, str) and k.startswith(f"{_PICK}|")]:
        if other != key and other.endswith(f"|{product_id}"):
            state[other] = checked


def _clear_compare() -> None:
    state = st.session_state
    state["compare_ids"] = []
    for key in [k for k in state if isinstance(k, str) and k.startswith(f"{_PICK}|")]:
        del state[key]


def _make_comparison(service: CatalogService) -> None:
    from shopbot.compare import compare_ids

    picked = list(st.session_state.get("compare_ids", []))
    comparison = compare_ids(service.store, picked)
    st.session_state["pending_comparison"] = comparison.to_dict()
    _clear_compare()


def comparison_tray(service: CatalogService) -> dict[str, Any] | None:
    """The products picked with the cards' "Compare" boxes and a "Compare N products" button.
    Returns the comparison (``Comparison.to_dict()``) once, in the run after the button is
    pressed, for the page to add to the chat (see :func:`comparison_message`); else None."""
    state = st.session_state
    pending = state.pop("pending_comparison", None)
    picked: list[str] = state.get("compare_ids", [])
    if picked:
        titles = state.get("compare_titles", {})
        with st.container(border=True):
            names = ", ".join(md_escape(titles.get(i) or i) for i in picked)
            st.caption(f"Picked to compare: {names}")
            go, clear = st.columns([3, 1])
            go.button(
                f"Compare {len(picked)} products" if len(picked) > 1
                else "Pick one more to compare",
                key="compare_go",
                type="primary",
                disabled=len(picked) < 2,
                on_click=_make_comparison,
                args=(service,),
                icon=":material/compare_arrows:",
                width="stretch",
            )
            clear.button("Clear", key="compare_clear", on_click=_clear_compare, width="stretch")
    return pending


def comparison_message(comparison: dict[str, Any]) -> dict[str, Any]:
    """A chat message that shows a comparison: its one-line summary as the text, the table
    drawn by :func:`render_comparison` from ``message["comparison"]``."""
    from shopbot.compare import Comparison

    return {
        "role": "assistant",
        "content": Comparison.from_dict(comparison).summary(),
        "comparison": comparison,
        "sources": [],
    }


def render_comparison(comparison: dict[str, Any]) -> None:
    """A comparison table: one column per product (its name as the header), one row per
    fact, the values as the catalog records state them."""
    import pandas as pd

    from shopbot.compare import MISSING_VALUE, Comparison

    table = Comparison.from_dict(comparison)
    if table.products:
        rows = table.rows()
        frame = pd.DataFrame(
            [
                [md_escape(v) if v not in (None, "") else MISSING_VALUE for v in values]
                for _, values in rows
            ],
            index=[md_escape(label) for label, _ in rows],
            columns=[md_escape(name) for name in table.columns()],
        )
        st.table(frame)
    if table.missing:
        st.caption("Not found in the catalog: " + ", ".join(md_escape(m) for m in table.missing))


def save_feedback(index: int, message: dict[str, Any]) -> None:
    """Thumbs up/down and an optional comment under an answer, stored with the answer."""
    key = f"feedback_{index}"

    def on_rating() -> None:
        value = st.session_state.get(key)
        if value is None:
            return
        try:
            _store_rating(value)
        except (ValueError, RuntimeError) as exc:  # FeedbackStoreError is a RuntimeError
            log.warning("feedback not saved: %s", exc)
            st.toast("Sorry, your feedback could not be saved.")

    def _store_rating(value: int) -> None:
        rating = 1 if value == 1 else -1
        message["rating"] = rating
        store = feedback_store()
        if message.get("feedback_id") is None:
            message["feedback_id"] = store.record(
                question=message.get("question", ""),
                answer=message["content"],
                sources=message.get("sources", []),
                generator=message.get("generator", ""),
                rating=rating,
                standalone_question=message.get("standalone_question", ""),
                session_id=session_id(),
            )
        else:
            store.update(message["feedback_id"], rating)

    def on_comment() -> None:
        comment = st.session_state.get(f"comment_{index}", "")
        if message.get("feedback_id") is not None:
            try:
                feedback_store().update(message["feedback_id"], message["rating"], comment=comment)
            except (ValueError, RuntimeError) as exc:
                log.warning("feedback comment not saved: %s", exc)
                st.toast("Sorry, your comment could not be saved.")

    st.feedback("thumbs", key=key, on_change=on_rating)
    if message.get("feedback_id") is not None:
        st.text_input(
            "Tell us more (optional)",
            key=f"comment_{index}",
            on_change=on_comment,
            max_chars=2000,
            placeholder="What was wrong or missing?",
        )
