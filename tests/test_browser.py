"""The real app in a real browser: `streamlit run app.py` driven by headless Chromium, as a
shopper and as staff would use it. Each step leaves a screenshot in tests/screenshots/.

The server gets a small slice of the demo catalog (the product export, the FAQ and the
returns policy), the extractive generator and a known staff password. Every test opens its
own browser context, so it is a new visitor with a new Streamlit session.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator

import pytest

from tests.live_app import CHROMIUM, CHROMIUM_MISSING, launch_chromium, server_env, streamlit_server

if not CHROMIUM.exists():
    pytest.skip(CHROMIUM_MISSING, allow_module_level=True)

from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright  # noqa: E402

from catalog.catalog_data import PRODUCTS  # noqa: E402
from shopbot.auth import hash_password  # noqa: E402
from tests.conftest import CATALOG_DIR, ROOT  # noqa: E402

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery"
SCREENSHOTS = ROOT / "tests" / "screenshots"
FIRST_START_S = 120  # the first visitor waits for the catalog to be ingested
ANSWER_S = 30
KAYAK_CSV = (
    b"SKU,Title,Price,Brand,Category,Stock\n"
    b'KY-100,Riverlight Touring Kayak,"$1,099.00",Ridgeline,Boats | Kayaks,4\n'
)
# A Shopify export: a vest in S/M/L at $45/$48/$52, and a draft, an archived and an
# unpublished product.
OUTERWEAR_CSV = ROOT / "tests" / "fixtures" / "variants" / "outerwear_shopify.csv"


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app_server(tmp_path_factory) -> Iterator[str]:
    """`streamlit run app.py` over a fresh data dir and part of the demo catalog."""
    root = tmp_path_factory.mktemp("browser-app")
    catalog = root / "catalog"
    catalog.mkdir()
    for name in ("products.csv", "faq.md", "policies/returns.docx"):
        shutil.copy(CATALOG_DIR / name, catalog)
    env = server_env(
        SHOPBOT_DATA_DIR=str(root / "data"),
        SHOPBOT_CATALOG_DIR=str(catalog),
        SHOPBOT_GENERATOR="extractive",
        SHOPBOT_STAFF_PASSWORD_HASH=hash_password(PASSWORD, rounds=4),
    )
    with streamlit_server(env, root / "server.log") as server:
        yield server.url
    assert "Traceback" not in server.log(), server.log()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def app_url(app_server: str, browser: Browser) -> str:
    """The server's URL once the first visit has seeded the catalog and shows the chat."""
    page = browser.new_page()
    try:
        page.goto(app_server)
        chat_input(page).wait_for(timeout=FIRST_START_S * 1000)
        # The catalog is seeded in the background (it takes seconds here): this first visitor
        # is told so, and the notice goes by itself once the catalog is complete.
        notice = page.get_by_text("still setting up the catalog")
        notice.wait_for(state="visible", timeout=FIRST_START_S * 1000)
        shot(page, "first-start-seeding")
        notice.wait_for(state="hidden", timeout=FIRST_START_S * 1000)
    finally:
        page.close()
    return app_server


@pytest.fixture
def page(browser: Browser, app_url: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(ANSWER_S * 1000)
    page.goto(app_url)
    chat_input(page).wait_for()
    yield page
    context.close()


# -- helpers -------------------------------------------------------------------------------


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True, animations="disabled")


def chat_input(page: Page) -> Locator:
    return page.get_by_test_id("stChatInput").locator("textarea")


def ask(page: Page, question: str) -> Locator:
    """Type ``question`` into the chat, press Enter; the new assistant message once it is
    complete (its thumbs appear after the answer and its sources)."""
    before = page.get_by_test_id("stChatMessage").count()
    chat_input(page).fill(question)
    chat_input(page).press("Enter")
    messages = page.get_by_test_id("stChatMessage")
    expect(messages.nth(before)).to_contain_text(question)
    answer = messages.nth(before + 1)
    expect(answer.get_by_test_id("stChatMessageAvatarAssistant")).to_be_visible()
    expect(answer.get_by_test_id("stFeedback")).to_be_visible(timeout=ANSWER_S * 1000)
    return answer


def answer_text(message: Locator) -> Locator:
    return message.get_by_test_id("stMarkdownContainer").first


def nav(page: Page) -> Locator:
    return page.get_by_test_id("stSidebarNav")


def nav_link(page: Page, title: str) -> Locator:
    return nav(page).get_by_role("link", name=re.compile(rf"\b{title}$"))


def product_card(message: Locator, title: str) -> Locator:
    """The bordered card whose bold title is ``title`` (the innermost block holding it)."""
    name = message.page.locator("strong", has_text=re.compile(rf"^{re.escape(title)}$"))
    return message.get_by_test_id("stVerticalBlock").filter(has=name).last


def sign_in(page: Page, password: str) -> None:
    nav_link(page, "Staff").click()
    page.get_by_label("Staff password").fill(password)
    page.get_by_role("button", name="Sign in").click()


# -- tests ---------------------------------------------------------------------------------


def test_shopper_gets_a_streamed_answer_with_product_cards_and_citations(page: Page):
    expect(page.get_by_role("heading", name="Ask our shop assistant")).to_be_visible()
    expect(page.get_by_role("radiogroup", name="Try asking")).to_contain_text("How much is the Alpine 2 Tent?")
    shot(page, "shopper-1-empty-chat")

    answer = ask(page, "How much is the Alpine 2 Tent?")
    expect(answer_text(answer)).to_contain_text("$349.00")
    expect(answer_text(answer)).to_contain_text("[1]")
    card = product_card(answer, "Alpine 2 Tent")
    expect(card).to_be_visible()
    facts = card.get_by_test_id("stCaptionContainer").first  # price · stock · brand
    expect(facts).to_have_text(re.compile(r"^\$349\.00 · In stock"))
    expect(card.get_by_role("link", name="View product")).to_have_attribute(
        "href", re.compile(r"/products/alpine-2-tent$")
    )
    shot(page, "shopper-2-price-answer")

    answer = ask(page, "How long do I have to return an item?")
    expect(answer_text(answer)).to_contain_text("30 days")
    citation = answer.get_by_test_id("stExpander").filter(has_text="returns.docx").first
    expect(citation).to_contain_text("Returns & Refunds Policy")
    passage = citation.get_by_test_id("stText")
    expect(passage).not_to_be_visible()
    citation.locator("summary").click()
    expect(passage).to_be_visible()
    expect(passage).to_contain_text("30 days")
    shot(page, "shopper-3-policy-citation")


def test_new_chat_is_available_right_after_the_first_answer(page: Page):
    new_chat = page.get_by_role("button", name="New chat")
    expect(new_chat).to_be_disabled()  # nothing to clear yet
    ask(page, "Which headlamps do you have?")
    expect(new_chat).to_be_enabled()
    new_chat.click()
    expect(page.get_by_test_id("stChatMessage")).to_have_count(0)
    expect(page.get_by_role("radiogroup", name="Try asking")).to_be_visible()  # starters again


def test_a_conversation_remembers_a_filter_and_applies_it_where_it_makes_sense(page: Page):
    # A budget with a kind of product: every headlamp under $50 is listed, with its card.
    # (This app holds the demo's products.csv.)
    shop = [p for p in PRODUCTS if p["file"] == "products.csv"]
    answer = ask(page, "which headlamps do you have under $50?")
    cheap = [p["title"] for p in shop if p["title"].endswith("Headlamp") and p["price"] <= 50]
    assert cheap
    for title in cheap:
        expect(answer_text(answer)).to_contain_text(title)
        expect(product_card(answer, title)).to_be_visible()
    chip = page.get_by_role("button", name=re.compile("under \\$50"))
    expect(chip).to_be_visible()  # the remembered filter, shown as a chip

    # A new kind with the same budget referred to: the answer says which filter it used.
    answer = ask(page, "and a lantern within the same budget?")
    expect(answer_text(answer)).to_contain_text("Using your earlier filters: under $50.")
    lanterns = [p for p in shop if p["title"].endswith("Lantern")]
    assert any(lantern["price"] <= 50 for lantern in lanterns)
    for lantern in lanterns:
        if lantern["price"] <= 50:
            expect(answer_text(answer)).to_contain_text(lantern["title"])
        else:
            expect(answer_text(answer)).not_to_contain_text(lantern["title"])

    # A policy question afterwards is about the policy, not glued to the lanterns.
    answer = ask(page, "How much does shipping cost?")
    expect(answer_text(answer)).to_contain_text("shipping")
    expect(answer_text(answer)).not_to_contain_text("Lantern")
    shot(page, "shopper-4-remembered-filter")


def test_staff_pages_appear_only_after_signing_in(page: Page, app_url: str):
    expect(nav_link(page, "Chat")).to_be_visible()
    expect(nav_link(page, "Staff")).to_be_visible()
    expect(nav_link(page, "Catalog")).to_have_count(0)
    expect(nav_link(page, "Model")).to_have_count(0)
    shot(page, "staff-1-shopper-navigation")

    page.goto(f"{app_url}/catalog")  # a shopper who guesses the URL lands on the chat
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Page not found")
    expect(chat_input(page)).to_be_attached()
    expect(page.get_by_test_id("stFileUploader")).to_have_count(0)
    shot(page, "staff-2-guessed-url")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)

    sign_in(page, "not the password")
    expect(page.get_by_test_id("stAlertContentError")).to_contain_text("Wrong password")
    expect(nav_link(page, "Catalog")).to_have_count(0)
    shot(page, "staff-3-wrong-password")

    sign_in(page, PASSWORD)
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("signed in as staff")
    expect(nav_link(page, "Catalog")).to_be_visible()
    expect(nav_link(page, "Model")).to_be_visible()
    shot(page, "staff-4-signed-in")

    nav_link(page, "Model").click()
    answering = page.get_by_test_id("stAlertContentInfo").filter(has_text="Answering now")
    expect(answering).to_contain_text("extractive")  # the adapters panel has its own notice
    shot(page, "staff-5-model-page")


def test_uploaded_product_is_answerable_in_chat(page: Page):
    sign_in(page, PASSWORD)
    nav_link(page, "Catalog").click()
    expect(page.get_by_role("heading", name="Catalog")).to_be_visible()
    uploader = page.get_by_test_id("stFileUploader")
    uploader.locator("input[type=file]").set_input_files(
        files=[{"name": "kayaks.csv", "mimeType": "text/csv", "buffer": KAYAK_CSV}]
    )
    expect(uploader).to_contain_text("kayaks.csv")
    shot(page, "upload-1-file-chosen")

    page.get_by_role("button", name="Ingest").click()
    # Ingested in the background: the page shows progress, then the result by itself.
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text(
        "1 of 1 files ingested", timeout=ANSWER_S * 1000
    )
    results = page.get_by_test_id("stDataFrame").first
    expect(results.get_by_test_id("glide-cell-0-0")).to_have_text("kayaks.csv")
    expect(results.get_by_test_id("glide-cell-1-0")).to_have_text("added")
    shot(page, "upload-2-ingested")

    nav_link(page, "Chat").click()
    answer = ask(page, "How much is the Riverlight Touring Kayak?")
    expect(answer_text(answer)).to_contain_text("$1,099.00")
    card = product_card(answer, "Riverlight Touring Kayak")
    facts = card.get_by_test_id("stCaptionContainer").first
    expect(facts).to_have_text(re.compile(r"^\$1,099\.00 · In stock \(4 available\)"))
    shot(page, "upload-3-answer")


def test_a_shopify_export_with_sizes_answers_a_sizes_price_and_hides_its_drafts(page: Page):
    """Staff upload an export with variants and hidden products; the Catalog page lists the
    hidden ones with their status, and a shopper asking for one size gets its price."""
    sign_in(page, PASSWORD)
    nav_link(page, "Catalog").click()
    # How many products are hidden before (the demo export may hold some): once drawn with
    # 3 more, the page shows the new list, not the one drawn before the upload.
    expect(page.get_by_role("heading", name="What would the bot retrieve?")).to_be_visible()
    listed = page.get_by_test_id("stExpander").filter(has_text="Hidden from shoppers (")
    before = int(re.search(r"\((\d+)\)", listed.inner_text())[1]) if listed.count() else 0
    page.get_by_test_id("stFileUploader").locator("input[type=file]").set_input_files(
        files=[{
            "name": OUTERWEAR_CSV.name,
            "mimeType": "text/csv",
            "buffer": OUTERWEAR_CSV.read_bytes(),
        }]
    )
    page.get_by_role("button", name="Ingest").click()
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text(
        "1 of 1 files ingested", timeout=FIRST_START_S * 1000  # a busy machine
    )
    # Listed for staff with their status.
    hidden = page.get_by_test_id("stExpander").filter(
        has_text=f"Hidden from shoppers ({before + 3})"
    )
    hidden.locator("summary").click()
    listing = hidden.get_by_test_id("stDataFrame")
    for title, status in (
        ("Aurora Insulated Parka", "draft"), ("Ember Fleece Gloves", "not visible")
    ):
        # Columns: product, id, status, document; glide-cell-COLUMN-ROW holds a cell's text.
        name = listing.locator('[data-testid^="glide-cell-0-"]', has_text=title)
        row = name.get_attribute("data-testid").rsplit("-", 1)[1]
        expect(listing.get_by_test_id(f"glide-cell-2-{row}")).to_have_text(status)
    shot(page, "variants-1-hidden-products")

    nav_link(page, "Chat").click()
    answer = ask(page, "How much is the Cirrus Down Vest in size M?")
    expect(answer_text(answer)).to_contain_text("$48.00")
    expect(answer_text(answer)).not_to_contain_text("$52.00")
    card = product_card(answer, "Cirrus Down Vest")
    captions = card.get_by_test_id("stCaptionContainer")
    expect(captions.first).to_have_text(
        "Size M: $48.00 · In stock in Black; sold out in Grey · Loftworks"
    )
    expect(captions.nth(1)).to_have_text("Size: S, M, L · Color: Black, Grey")
    # Its image's host never resolves: the local placeholder is drawn instead.
    expect(card.get_by_role("img", name="No product image")).to_be_visible()
    shot(page, "variants-2-size-price")

    answer = ask(page, "Do you have the Aurora Insulated Parka?")  # a draft
    expect(answer).not_to_contain_text("Aurora")
