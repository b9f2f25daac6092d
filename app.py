"""shopbot web app: `streamlit run app.py`.

Shoppers see the chat; staff pages (Catalog, Model, Fine-tune) exist in the navigation only after
sign-in, and each checks again before drawing anything."""

import streamlit as st

from pages.common import catalog_service, is_staff, start_seeding
from pages.errors import report_error

st.set_page_config(page_title="Ridgeline Outfitters · Shop assistant", page_icon="🏕️", layout="centered")

service = catalog_service()
start_seeding()

pages = [st.Page("pages/chat.py", title="Chat", icon=":material/chat:", default=True)]
if is_staff():
    pages += [
        st.Page("pages/catalog.py", title="Catalog", icon=":material/inventory_2:"),
        st.Page("pages/model.py", title="Model", icon=":material/tune:"),
        st.Page("pages/finetune.py", title="Fine-tune", icon=":material/model_training:"),
    ]
pages.append(st.Page("pages/staff.py", title="Staff", icon=":material/badge:"))
page = st.navigation(pages)
try:
    page.run()
except Exception:
    # Whatever a page did not expect (a broken store, a bug): the user gets a short message,
    # the server's log the traceback. `showErrorDetails = "none"` in .streamlit/config.toml
    # keeps tracebacks out of the browser for anything that escapes this. st.stop() and
    # st.rerun() are not Exceptions: they pass through.
    report_error(f"on the {page.title} page")
