"""Catalog search: type what you are looking for, see matching products and passages."""

import streamlit as st

from pages.common import catalog_service

service = catalog_service()
st.title("Find it in our catalog")
query = st.text_input("What are you looking for?", placeholder="e.g. a waterproof tent for two")
if query:
    hits = service.search(query, k=6)
    if not hits:
        st.info("Nothing in the catalog matches that yet.")
    for hit in hits:
        with st.container(border=True):
            st.markdown(f"**{hit.title}**")
            details = []
            if hit.price is not None:
                details.append(f"{hit.price:,.2f} {hit.currency or ''}".strip())
            if hit.brand:
                details.append(hit.brand)
            if hit.category:
                details.append(hit.category)
            if hit.stock is not None:
                details.append("in stock" if hit.stock > 0 else "out of stock")
            if details:
                st.caption(" · ".join(details))
            st.write(hit.snippet)
            st.caption(f"Source: {hit.source}" + (f", page {hit.page}" if hit.page else ""))
