"""Pages without the model generating: logging in and out, the forced password change, who may
open admin pages, the security headers, and the admin pages' forms (documents, users, keys).

Failure modes covered: pages reachable without a session; admin pages hidden only by a
missing link; a first password that never has to be changed; pages without a strict
Content-Security-Policy or framable; uploads without per-file results; secrets shown twice.
"""

from __future__ import annotations

import re

import httpx

from tests.server.conftest import PASSWORD
from tests.ui.conftest import log_in, screenshot

STRICT_RULES = ("default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'")
ADMIN_PAGES = [
    "/admin", "/admin/connectors", "/admin/documents", "/admin/users", "/admin/access", "/admin/feedback", "/admin/audit"
]


def test_pages_need_a_session_and_return_where_you_were_going(page, ui_server):
    page.goto("/")
    assert page.url == ui_server.url + "/login"
    page.goto("/admin/users")
    assert page.url == ui_server.url + "/login?next=%2Fadmin%2Fusers"
    page.get_by_label("E-mail").fill(ui_server.admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(ui_server.url + "/admin/users")
    assert page.get_by_role("heading", name="Users & API keys").is_visible()


def test_a_wrong_password_is_reported_on_the_form(page, ui_server):
    page.goto("/login")
    page.get_by_label("E-mail").fill(ui_server.employee.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "Wrong e-mail or password" in alert.inner_text()
    assert page.url == ui_server.url + "/login"


def test_a_first_login_must_choose_a_new_password(page, ui_server):
    ui_server.add_user("new.hire@example.com", must_change_password=True)
    log_in(page, "new.hire@example.com", expect="/password")
    page.goto("/")  # every other page sends them back
    assert page.url == ui_server.url + "/password"
    assert page.get_by_role("heading", name="Choose your own password").is_visible()
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("my very own passphrase")
    page.get_by_label("New password again").fill("my very own passphrase")
    page.get_by_role("button", name="Save password").click()
    page.wait_for_url(ui_server.url + "/")
    assert page.get_by_label("Your question").is_visible()


def test_logging_out_ends_the_session(page, ui_server):
    log_in(page, ui_server.employee.email)
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(ui_server.url + "/login")
    page.goto("/")
    assert page.url == ui_server.url + "/login"


def test_employees_get_403_on_every_admin_page(page, ui_server):
    log_in(page, ui_server.employee.email)
    assert page.get_by_role("link", name="Administration").count() == 0
    for path in ADMIN_PAGES:
        response = page.goto(path)
        assert response.status == 403, path
        assert page.get_by_role("heading", name="Admins only").is_visible()
    assert page.request.get("/api/v1/admin/overview").status == 403


def test_someone_elses_conversation_is_not_found(page, ui_server):
    # Nothing relevant is found for this question, so no text is generated: it is quick.
    asked = ui_server.employee.client.post("/api/v1/ask", json={"question": "What is the boiling point of mercury?"})
    conversation_id = asked.json()["conversation_id"]
    log_in(page, ui_server.admin.email)
    response = page.goto(f"/c/{conversation_id}")
    assert response.status == 404
    assert page.get_by_role("heading", name="Conversation not found").is_visible()


def test_pages_carry_a_strict_content_security_policy(ui_server):
    with httpx.Client(base_url=ui_server.url) as client:
        pages = [("/login", client.get("/login"))]
        response = client.post("/api/v1/auth/login", json={"email": ui_server.admin.email, "password": PASSWORD})
        csrf = response.json()["csrf_token"]
        pages += [(path, client.get(path)) for path in ["/", "/password", *ADMIN_PAGES]]
        for path, page in pages:
            assert page.status_code == 200, path
            policy = page.headers["content-security-policy"]
            for rule in STRICT_RULES:
                assert rule in policy, (path, rule)
            assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
            assert page.headers["x-frame-options"] == "DENY"
            assert page.headers["x-content-type-options"] == "nosniff"
            html = page.text
            assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), f"inline script on {path}"
            assert not re.search(r"\son[a-z]+\s*=", html), f"event-handler attribute on {path}"
            assert not re.search(r"\sstyle\s*=", html), f"inline style on {path}"
            if path != "/login":
                assert f'<meta name="csrf-token" content="{csrf}">' in html, path
        asset = client.get(re.search(r'href="(/static/css/app\.css\?v=\w+)"', page.text).group(1))
        assert asset.status_code == 200 and "immutable" in asset.headers["cache-control"]


def test_the_admin_overview_shows_the_index_the_model_and_the_queue(page, ui_server):
    log_in(page, ui_server.admin.email)
    page.get_by_role("link", name="Administration").click()
    page.wait_for_url(ui_server.url + "/admin")
    documents = page.locator('[data-stat="documents"]').inner_text()
    assert int(documents) >= 4
    assert page.locator('[data-stat="model"]').inner_text() == "qwen2.5-coder-0.5b-instruct"
    assert "Files (enclave ingest)" in page.locator("#sources-title + .table-wrap").inner_text()
    overview = page.request.get("/api/v1/admin/overview").json()
    assert overview["documents"] == int(documents) and overview["chunks"] >= overview["documents"]
    assert overview["queue"]["depth"] == 0
    screenshot(page, "admin-overview.png")


def test_documents_upload_by_drag_and_drop_with_a_result_per_file(page, ui_server):
    log_in(page, ui_server.admin.email)
    page.goto("/admin/documents")
    dropped = page.evaluate_handle(
        """(files) => {
            const transfer = new DataTransfer();
            for (const [name, text] of files) transfer.items.add(new File([text], name));
            return transfer;
        }""",
        [
            ["travel-policy.md", "# Travel\n\nTrains are booked for trips under four hours."],
            ["broken.pdf", "%PDF-1.4 this is not really a pdf"],
        ],
    )
    page.locator("#dropzone").dispatch_event("drop", {"dataTransfer": dropped})
    good = page.locator('.upload-item[data-file="travel-policy.md"]')
    bad = page.locator('.upload-item[data-file="broken.pdf"]')
    good.and_(page.locator("[data-result]")).wait_for()
    bad.and_(page.locator("[data-result]")).wait_for()
    assert good.get_attribute("data-result") == "ok" and "Indexed" in good.inner_text()
    assert bad.get_attribute("data-result") == "failed" and "pdf" in bad.inner_text().lower()

    row = page.locator('tr', has_text="travel-policy.md")
    row.wait_for()
    page.get_by_label("Source", exact=True).select_option("upload")
    page.get_by_label("Title contains").fill("travel")
    page.wait_for_function("() => document.querySelectorAll('#documents-body tr').length === 1")
    screenshot(page, "admin-documents.png")
    row.get_by_role("button", name="Delete “travel-policy.md”").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete document").click()
    row.wait_for(state="detached")


def test_admins_add_users_reset_passwords_and_manage_api_keys(page, ui_server):
    log_in(page, ui_server.admin.email)
    page.goto("/admin/users")
    page.get_by_label("E-mail", exact=True).fill("olga@example.com")
    page.get_by_label("Role", exact=True).select_option("employee")
    page.get_by_label("Groups", exact=True).fill("hr, finance")
    page.get_by_role("button", name="Add user").click()
    secret = page.locator("#secret-value")
    secret.wait_for()
    first_password = secret.inner_text()
    assert len(first_password) >= 10
    row = page.locator('tr[data-user="olga@example.com"]')
    row.wait_for()
    assert "must change password" in row.inner_text()
    assert row.get_by_label("Groups of olga@example.com").input_value() == "finance, hr"

    row.get_by_role("button", name="Reset password").click()
    page.get_by_role("dialog").get_by_role("button", name="Reset password").click()
    page.locator("#secret-label", has_text="New password for olga@example.com").wait_for()
    assert secret.inner_text() != first_password
    with httpx.Client(base_url=ui_server.url) as client:
        login = client.post("/api/v1/auth/login", json={"email": "olga@example.com", "password": secret.inner_text()})
        assert login.status_code == 200 and login.json()["must_change_password"] is True

    page.get_by_label("What will use it").fill("helpdesk bot")
    page.get_by_label("Acts as user").fill("olga@example.com")
    page.get_by_label("search", exact=True).uncheck()
    page.get_by_label("admin", exact=True).uncheck()
    page.get_by_label("Expires after (days)").fill("30")
    page.get_by_role("button", name="Create key").click()
    page.locator("#secret-label", has_text="helpdesk bot").wait_for()
    key = secret.inner_text()
    assert key.startswith("enc_")
    with httpx.Client(base_url=ui_server.url, headers={"Authorization": f"Bearer {key}"}) as client:
        assert client.get("/api/v1/auth/me").json()["email"] == "olga@example.com"
        assert client.get("/api/v1/search", params={"q": "x"}).status_code == 403  # an ask-only key
        key_row = page.locator('tr[data-key="helpdesk bot"]')
        assert re.search(r"\task\tin \d+ days\t", key_row.inner_text())  # its scope and its expiry
        key_row.get_by_role("button", name="Revoke").click()
        page.get_by_role("dialog").get_by_role("button", name="Revoke key").click()
        key_row.filter(has_text="revoked").wait_for()
        assert client.get("/api/v1/auth/me").status_code == 401


NEW_GLOBALS = """() => Object.keys(window)
    .filter((key) => !window.__keysBeforeScripts.includes(key) && key !== '__keysBeforeScripts')"""
SCRIPTS = """() => [...document.scripts].map((s) => [s.type, new URL(s.src).pathname])"""
LOADED_SCRIPTS = """() => performance.getEntriesByType('resource')
    .map((e) => new URL(e.name).pathname).filter((p) => /\\.m?js$/.test(p))"""


def test_page_scripts_are_modules_that_put_nothing_on_window(context, ui_server):
    # Taken before any page script runs, in the same document: the browser's own globals.
    context.add_init_script("window.__keysBeforeScripts = Object.keys(window);")
    page = context.new_page()

    def check(path: str, entry: str) -> None:
        assert page.evaluate(SCRIPTS) == [["module", f"/static/js/{entry}"]], path  # one module, no classic scripts
        assert page.evaluate(NEW_GLOBALS) == [], f"{path}: page scripts share through imports, not window"
        loaded = page.evaluate(LOADED_SCRIPTS)
        assert "/static/js/common.js" in loaded, path
        # Fetched once each: a module reached by two URLs (say, with and without ?v=) would run twice.
        assert len(loaded) == len(set(loaded)), f"{path}: {sorted(loaded)}"

    page.goto("/login")
    check("/login", "auth.js")
    log_in(page, ui_server.admin.email)
    entries = {"/": "chat.js", "/password": "auth.js", "/admin": "common.js", "/admin/connectors": "admin-connectors.js",
               "/admin/documents": "admin-documents.js", "/admin/users": "admin-users.js",
               "/admin/feedback": "admin-feedback.js"}
    for path, entry in entries.items():
        page.goto(path)
        check(path, entry)
    assert "/static/vendor/dompurify/purify.es.mjs" in page.evaluate(LOADED_SCRIPTS)  # feedback renders Markdown


def test_modules_imported_by_path_are_revalidated_and_served_as_javascript(ui_server):
    # Only the page's entry module carries ?v=<hash> (cached for good); what it imports is fetched by
    # plain path, so the browser must ask again each time (a cheap 304) and never runs a stale copy.
    with httpx.Client(base_url=ui_server.url) as client:
        for path in ("/static/js/common.js", "/static/vendor/dompurify/purify.es.mjs"):
            module = client.get(path)
            assert module.status_code == 200, path
            assert module.headers["content-type"].startswith("text/javascript"), path  # modules need a JS type
            assert module.headers["cache-control"] == "no-cache" and module.headers["etag"], path
            assert client.get(path, headers={"If-None-Match": module.headers["etag"]}).status_code == 304, path


def test_the_audit_log_page_filters_with_a_plain_form(page, ui_server):
    with httpx.Client(base_url=ui_server.url) as client:
        client.post("/api/v1/auth/login", json={"email": "nobody-here@example.com", "password": "not a password"})
    log_in(page, ui_server.admin.email)
    page.goto("/admin/audit")
    assert page.locator('tr[data-action="sign_in"]').count() >= 2
    page.get_by_label("Actor (e-mail)").fill("nobody-here@example.com")
    page.get_by_label("Outcome").select_option("failed")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"actor=nobody-here%40example.com"))
    rows = page.locator("#audit-events tbody tr")
    assert rows.count() == 1 and "wrong" not in rows.inner_text() and "unknown account" in rows.inner_text()
    page.get_by_label("From (UTC)").fill("2099-01-01T00:00")
    page.get_by_role("button", name="Show").click()
    page.get_by_text("No events match.").wait_for()
    page.goto("/admin/audit?since=yesterday")
    assert "is not a date and time" in page.get_by_role("alert").inner_text()
    screenshot(page, "admin-audit.png")
