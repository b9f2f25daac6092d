"""Staff sign-in and sign-out. With `[auth]` in secrets, Streamlit's OIDC login is used;
otherwise a password checked against a bcrypt hash, with failed attempts slowed down."""

import streamlit as st

from pages.common import is_staff, oidc_configured, session_id, staff_auth

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
    # Failed attempts are counted per client address (a new browser session does not
    # reset them) and per session.
    address = getattr(st.context, "ip_address", None)
    client = address if isinstance(address, str) and address else session_id()
    result = auth.login(f"client:{client}", password)
    if result.ok:
        st.session_state.staff = True
        st.rerun()
    st.error(result.message)
