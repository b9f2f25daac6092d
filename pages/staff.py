"""Staff sign-in and sign-out. With `[auth]` in secrets, Streamlit's OIDC login is used;
otherwise a password checked against a bcrypt hash, with failed attempts slowed down."""

import streamlit as st

from pages.common import catalog_service, is_staff, oidc_configured, staff_auth
from shopbot.auth import client_address

st.title("Staff")

if oidc_configured():
    if st.user.is_logged_in:
        st.success(f"Signed in as {st.user.get('email') or st.user.get('name') or 'staff'}.")
        if st.button("Sign out", icon=":material/logout:"):
            st.logout()
    else:
        st.write("Sign in with your company account to manage the catalog and the model.")
        if st.button("Sign in", type="primary", icon=":material/login:"):
            st.login()
    st.stop()

auth = staff_auth()
if is_staff():
    st.success("You are signed in as staff. The Catalog, Model and Fine-tune pages are in the menu.")
    if st.button("Sign out", icon=":material/logout:"):
        st.session_state.staff = False
        st.rerun()
    st.stop()

if not auth.configured:
    st.warning(auth.how_to_configure)
    st.stop()

with st.form("staff_login", clear_on_submit=True):
    password = st.text_input("Staff password", type="password")
    submitted = st.form_submit_button("Sign in", type="primary")
if submitted:
    # Failed attempts are counted for the staff account (whoever tries it, from any session
    # or process) and for the client's address: X-Forwarded-For only from a proxy listed in
    # SHOPBOT_TRUSTED_PROXIES (shopbot.auth.client_address).
    headers = st.context.headers
    client = client_address(
        st.context.ip_address,
        ", ".join(headers.get_all("X-Forwarded-For")) if headers else None,
        catalog_service().settings.trusted_proxies,
    )
    result = auth.login(client, password)
    if result.ok:
        st.session_state.staff = True
        st.rerun()
    st.error(result.message)
