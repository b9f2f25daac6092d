"""shopbot web app: `streamlit run app.py`."""

import streamlit as st

from pages.common import catalog_service, seed_demo_catalog_once

st.set_page_config(page_title="Ridgeline Outfitters", page_icon="🏕️", layout="wide")

service = catalog_service()
seed_demo_catalog_once(service)

navigation = st.navigation([st.Page("pages/search.py", title="Search", icon="🔎", default=True)])
navigation.run()
