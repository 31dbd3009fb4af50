"""The admin Access page in a real browser: who may read a document and why, and searching as a person."""

from __future__ import annotations

from tests.ui.conftest import log_in


def test_an_admin_sees_who_reads_a_document_and_what_a_person_finds(page, ui_server):
    log_in(page, ui_server.admin.email)
    bonus = ui_server.documents["sales-bonus.md"]
    page.goto("/admin/access")
    page.get_by_label("Document id").fill(bonus)
    page.get_by_label("Person (optional)").fill(ui_server.employee.email)
    page.get_by_role("button", name="Explain").click()
    verdict = page.locator("#access-verdict")
    assert "may read" in verdict.inner_text() and "member of the group sales" in verdict.inner_text()
    assert "ana@example.com" in page.locator("#access-readers").inner_text()

    page.get_by_label("Person", exact=True).fill("boss@example.com")
    page.get_by_label("Search for").fill("commission on closed deals above quota")
    page.get_by_role("button", name="Search as this person").click()
    assert "sales-bonus.md" in page.locator("#search-as-hits").inner_text()


def test_an_unknown_document_is_reported_on_the_page(page, ui_server):
    log_in(page, ui_server.admin.email)
    page.goto("/admin/access?document=no-such-document")
    assert page.get_by_role("alert").inner_text() == "no document no-such-document"


def test_employees_cannot_open_it(page, ui_server):
    log_in(page, ui_server.employee.email)
    response = page.goto("/admin/access")
    assert response.status == 403


def test_the_documents_and_users_pages_lead_to_the_explanations(page, ui_server):
    log_in(page, ui_server.admin.email)
    page.goto("/admin/documents")
    row = page.locator("#documents-table tr", has_text="sales-bonus.md")
    row.get_by_role("link", name="Who can read it").click()
    page.wait_for_url("**/admin/access?document=*")
    assert "group:sales" in page.locator("#access-readers").inner_text()

    page.goto("/admin/users")
    page.locator("tr", has_text=ui_server.employee.email).get_by_role("link", name="What they can see").click()
    page.wait_for_url("**/admin/access?user=*")
    assert page.get_by_label("Person", exact=True).input_value() == ui_server.employee.email
