"""An admin connects a folder through the form, watches it sync, and its document answers questions.

Failure modes covered: a form that does not follow the connector's schema; a "Test connection"
that checks nothing; a first sync that does not start on save; progress that never refreshes;
pause, history and delete (with its documents) that do not work from the page.
"""

from __future__ import annotations

import pytest

from tests.polling import eventually
from tests.ui.conftest import ANSWER_TIMEOUT_MS, log_in, screenshot

pytestmark = pytest.mark.llm

WAFFLES = "The Tromso office canteen serves waffles every Friday at 14:00, with cloudberry jam."


def test_an_admin_connects_a_folder_and_its_document_is_answerable(make_context, ui_server):
    (ui_server.folder / "canteen-waffles.md").write_text(f"# Canteen\n\n{WAFFLES}\n", encoding="utf-8")
    page = make_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(page, ui_server.admin.email)
    page.goto("/admin/connectors")
    page.get_by_role("button", name="Add connector").click()
    dialog = page.get_by_role("dialog", name="Add connector")
    dialog.locator(".type-option").first.wait_for()
    assert {"Local folder", "SharePoint", "Salesforce"} <= set(dialog.locator(".type-option strong").all_inner_texts())

    # A wrong path: the test says what is wrong, in words.
    dialog.get_by_role("button", name="Local folder").click()
    form = page.get_by_role("dialog", name="Add Local folder")
    form.get_by_label("Name").fill("Canteen share")
    form.get_by_label("Path").fill(str(ui_server.folder / "missing"))
    assert "absolute path of the folder" in form.locator("#cfg-path-help").inner_text().lower()  # inline help
    form.get_by_role("button", name="Test connection").click()
    result = form.locator('.test-result[data-outcome="failed"]')
    result.wait_for()
    assert "missing" in result.inner_text()

    form.get_by_label("Path").fill(str(ui_server.folder))
    form.get_by_role("button", name="Test connection").click()
    form.locator('.test-result[data-outcome="ok"]').wait_for()
    assert "1 file" in form.locator(".test-result").inner_text()
    form.get_by_role("button", name="Save and sync").click()

    card = page.locator(".connector", has_text="Canteen share")
    card.wait_for()
    # The page refreshes by itself while the first sync runs; wait until it shows the result.
    page.wait_for_function(
        """() => {
            const cards = [...document.querySelectorAll('.connector')];
            const card = cards.find(c => c.textContent.includes('Canteen share'));
            return card && card.dataset.state === 'idle' && card.querySelector('[data-count="indexed"]')?.textContent.startsWith('1');
        }""",
        timeout=60_000,
    )
    assert "Up to date" in card.locator("[data-state-label]").inner_text()
    assert card.locator(".connector-facts").inner_text().split("\n")[1] == "1"  # documents
    assert card.locator("[data-rate]").inner_text().endswith(" per minute")
    screenshot(page, "admin-connectors.png")

    card.get_by_role("button", name="History").click()
    runs = page.get_by_role("dialog", name="Sync history of “Canteen share”")
    runs.locator(".run .badge", has_text="succeeded").first.wait_for()
    runs.get_by_role("button", name="Close").click()

    card.get_by_role("button", name="Pause").click()
    card.locator("[data-state-label]", has_text="Paused").wait_for()
    card.get_by_role("button", name="Resume").click()
    card.locator("[data-state-label]", has_text="Up to date").wait_for()

    chat = make_context(viewport={"width": 1280, "height": 860}).new_page()
    log_in(chat, ui_server.employee.email)
    box = chat.get_by_label("Your question")
    box.fill("On which day does the canteen serve waffles?")
    box.press("Enter")
    answer = chat.locator(".msg-assistant").last
    answer.locator(".msg-actions").wait_for(state="visible", timeout=ANSWER_TIMEOUT_MS)
    assert "canteen-waffles.md" in answer.locator(".source-title").all_inner_texts()
    assert "Friday" in answer.locator(".answer").inner_text()

    card.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete connector and documents").click()
    card.wait_for(state="detached")
    hits = ui_server.employee.client.get("/api/v1/search", params={"q": "canteen waffles Friday", "k": 10}).json()
    assert "canteen-waffles.md" not in [h["title"] for h in hits]


def test_a_sync_that_ends_with_warnings_says_so_on_the_card_and_in_its_history(page, ui_server, tmp_path):
    folder = tmp_path / "mounted-share"
    folder.mkdir()
    (folder / "holidays.md").write_text("The office closes on 24 December.\n")
    admin = ui_server.admin.client
    created = admin.post("/api/v1/connectors", json={"type": "local", "name": "Mounted share",
                                                     "config": {"path": str(folder), "watch": False}}).json()
    runs = f"/api/v1/connectors/{created['id']}/runs"
    eventually(lambda: [r for r in admin.get(runs).json() if r["status"] == "succeeded"], "the first sync")
    (folder / "holidays.md").unlink()
    admin.post(f"/api/v1/connectors/{created['id']}/sync", json={"full": True})
    eventually(lambda: admin.get(runs).json()[0]["status"] == "warning", "the warning")

    log_in(page, ui_server.admin.email)
    page.goto("/admin/connectors")
    card = page.locator(".connector", has_text="Mounted share")
    card.locator("[data-state-label]", has_text="Synced with warnings").wait_for()
    assert "nothing was removed" in card.locator(".connector-warnings").inner_text()
    card.get_by_role("button", name="History").click()
    history = page.get_by_role("dialog", name="Sync history of “Mounted share”")
    assert "nothing was removed" in history.locator(".run-warnings").first.inner_text()
    admin.delete(f"/api/v1/connectors/{created['id']}")
