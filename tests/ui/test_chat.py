"""The chat in a real browser with the real 0.5B model: a live status, then the checked answer,
citations that open their documents, feedback, stop and regenerate, nothing-found, injection, phone width.

Failure modes covered: a wait with nothing to say what is happening, or a draft shown before its check; [n] markers
that do not lead to the document; feedback that never reaches the admins; HTML or script
from a document or the model running in the page, or loading anything; a stop button that
leaves the model busy; a layout unusable on a phone.
"""

from __future__ import annotations

import pytest

from tests.ui.conftest import ANSWER_TIMEOUT_MS, INJECTION_QUESTION, INJECTION_TITLE, log_in, screenshot

pytestmark = pytest.mark.llm

PARKING = "Which garage level do employees park on at the Tromso office?"
BONUS = "What commission do account executives earn on deals above quota?"
NOTHING = "What is the boiling point of mercury?"

RECORD_STREAMING_STATES = """() => {
  window.__answerStates = [];
  window.__steps = [];
  new MutationObserver(() => {
    const answers = document.querySelectorAll('.msg-assistant.streaming .answer');
    const answer = answers[answers.length - 1];
    const states = window.__answerStates;
    const text = answer && answer.textContent;
    if (text && states[states.length - 1] !== text) states.push(text);
    const steps = document.querySelectorAll('.msg-assistant.streaming .typing-step');
    const step = steps.length && steps[steps.length - 1].textContent;
    if (step && window.__steps[window.__steps.length - 1] !== step) window.__steps.push(step);
  }).observe(document.getElementById('thread'), {subtree: true, childList: true, characterData: true});
}"""


def ask(page, question: str) -> None:
    box = page.get_by_label("Your question")
    box.fill(question)
    box.press("Enter")


def answered(page):
    """The latest answer, once it is complete (its actions appear after the `sources` event)."""
    answer = page.locator(".msg-assistant").last
    answer.locator(".msg-actions").wait_for(state="visible", timeout=ANSWER_TIMEOUT_MS)
    return answer


def test_a_live_status_then_the_checked_answer_whose_citations_open_the_documents(context, page, ui_server):
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=ui_server.url)
    log_in(page, ui_server.employee.email)
    page.evaluate(RECORD_STREAMING_STATES)
    ask(page, PARKING)
    answer = answered(page)

    final = answer.locator(".answer").inner_text()
    states, steps = page.evaluate("window.__answerStates"), page.evaluate("window.__steps")
    # While it was made, the status said what Enclave was doing; nothing of it showed before its check.
    assert steps[0].startswith("Searching the documents") and "Checking the answer against its sources…" in steps
    assert all("P3" in s for s in states), f"only the checked answer may show, saw {states!r}"
    assert answer.locator(".answer").get_attribute("aria-live") == "polite"
    assert "P3" in final
    # The sentence the answer rests on is highlighted in its source.
    assert "P3" in answer.locator(".source-snippet mark.source-quote").first.inner_text()

    sources = answer.locator(".source")
    assert sources.first.locator(".source-title").inner_text() == "parking.md"
    assert "Local file" in sources.first.inner_text()
    assert "garage level P3" in sources.first.locator(".source-snippet").inner_text()

    citation = answer.locator(".answer a.cite").first
    assert citation.inner_text() == "1"
    with context.expect_page() as opened:
        citation.click()
    document = opened.value
    document.wait_for_load_state()
    assert f"/api/v1/documents/{ui_server.documents['parking.md']}/content" in document.url
    assert "employees park in garage level P3" in document.content()
    document.close()

    with context.expect_page() as opened:
        sources.first.locator("a.source-title").click()
    opened.value.wait_for_load_state()
    assert "Visitors use level P1" in opened.value.content()
    opened.value.close()

    answer.get_by_role("button", name="Copy answer").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "P3" in copied and "[1]" in copied  # the answer as written, markers included

    assert page.url.startswith(ui_server.url + "/c/")  # the new conversation has its own address
    assert page.locator(".conversation-link").first.inner_text().startswith("Which garage level")
    screenshot(page, "chat.png")


def test_thumbs_down_with_a_comment_reaches_the_admin_feedback_page(make_context, ui_server):
    employee = make_context().new_page()
    log_in(employee, ui_server.employee.email)
    ask(employee, BONUS)
    answer = answered(employee)
    answer.get_by_role("button", name="Bad answer").click()
    comment = answer.get_by_label("Thanks. Tell us what went wrong (optional)")
    comment.fill("The commission figure looks outdated")
    answer.get_by_role("button", name="Send feedback").click()
    employee.get_by_text("Thanks for the feedback").wait_for()
    assert answer.get_by_role("button", name="Bad answer").get_attribute("aria-pressed") == "true"

    admin = make_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(admin, ui_server.admin.email)
    admin.goto("/admin/feedback")
    entry = admin.locator(".feedback-item", has_text="The commission figure looks outdated")
    entry.wait_for()
    assert BONUS in entry.inner_text()
    assert ui_server.employee.email in entry.inner_text()
    assert "Not helpful" in entry.inner_text()
    assert "sales-bonus.md" in entry.locator(".feedback-sources").inner_text()
    screenshot(admin, "admin-feedback.png")
    # Beside the rating, how the answer was made: the model file, the prompts, the cited sentence.
    made = entry.locator(".feedback-provenance")
    made.locator("summary").click()
    assert "How this answer was made: answered" in made.inner_text()
    assert "qwen2.5-coder-0.5b-instruct (sha256 " in made.inner_text()
    assert "7.5 percent" in made.locator(".evidence-cited").inner_text()


def test_html_from_documents_and_answers_is_shown_never_run(page, ui_server, watch):
    log_in(page, ui_server.employee.email)
    ask(page, INJECTION_QUESTION)
    answer = answered(page)
    snippet = answer.locator(".source-snippet").first.inner_text()
    assert "<img src=x onerror=alert(1)>" in snippet and "<script>" in snippet  # shown, as text
    assert answer.locator(".source-title").first.inner_text() == INJECTION_TITLE
    thread = page.locator("#thread")
    for dangerous in ("img", "script", "iframe", "[onerror]", "[onclick]", 'a[href^="javascript"]'):
        assert thread.locator(dangerous).count() == 0, dangerous

    # The renderer itself, on the nastiest Markdown we can think of (the model might write any of it).
    hostile = "\n\n".join(
        [
            "<img src=x onerror=alert(1)>",
            "<script>alert(2)</script>",
            "[click](javascript:alert(3)) ![pic](http://203.0.113.9/pixel.png) <a href=x onclick=alert(4)>a</a>",
            "<svg onload=alert(5)></svg><iframe src=/></iframe><style>body{display:none}</style>",
            "[ok](https://intranet.example.com/page) [1]",
            '```python\nprint("hi")\n```',
        ]
    )
    page.evaluate(
        """async (text) => {
            const { render } = await import('/static/js/markdown.js');  // the very module the page runs
            const box = document.createElement('div');
            box.id = 'hostile';
            box.append(render(text, []));
            document.getElementById('thread').append(box);
        }""",
        hostile,
    )
    box = page.locator("#hostile")
    dangerous_elements = ("img", "script", "iframe", "svg:not(.icon)", "style", "[onerror]", "[onclick]", "[onload]")
    for dangerous in (*dangerous_elements, 'a[href^="javascript"]'):
        assert box.locator(dangerous).count() == 0, dangerous
    assert "<img src=x onerror=alert(1)>" in box.inner_text()
    link = box.locator('a[href="https://intranet.example.com/page"]')
    assert link.get_attribute("rel") == "noopener noreferrer nofollow" and link.get_attribute("target") == "_blank"
    assert box.locator(".code-block .code-copy").count() == 1  # code blocks get a copy button
    assert watch.dialogs == []


def test_nothing_found_is_said_plainly(page, ui_server):
    log_in(page, ui_server.employee.email)
    box = page.get_by_label("Your question")
    box.press_sequentially("What is the boiling point")
    box.press("Shift+Enter")  # a new line, not a send
    box.press_sequentially("of mercury?")
    assert box.input_value() == "What is the boiling point\nof mercury?"
    assert page.locator(".msg-user").count() == 0
    box.press("Enter")
    page.locator(".msg-user").wait_for()
    assert page.locator(".msg-user").inner_text() == "What is the boiling point\nof mercury?"
    answer = answered(page)
    notice = answer.locator(".nothing-found")
    assert notice.is_visible()
    assert "couldn't find" in notice.inner_text()
    assert answer.locator(".sources").is_hidden()
    assert answer.get_by_role("button", name="Bad answer").count() == 0


def test_stop_frees_the_model_and_regenerate_asks_again(page, ui_server):
    log_in(page, ui_server.employee.email)
    ask(page, PARKING)
    first = page.locator(".msg-assistant").last
    writing = "() => document.querySelector('.msg-assistant.streaming .typing-step')?.textContent.startsWith('Writing')"
    page.wait_for_function(writing, timeout=ANSWER_TIMEOUT_MS)
    page.get_by_role("button", name="Stop generating").click()
    first.locator(".msg-stopped").wait_for()
    assert "not saved" in first.locator(".msg-stopped").inner_text()
    assert page.get_by_role("button", name="Send").is_visible()

    first.get_by_role("button", name="Regenerate: ask the same question again").click()
    second = answered(page)
    assert page.locator(".msg-assistant").count() == 2
    assert second.locator(".source-title").first.inner_text() == "parking.md"
    assert page.locator(".msg-user").nth(1).inner_text() == PARKING


def test_the_sidebar_lists_searches_renames_and_deletes_conversations(page, ui_server):
    log_in(page, ui_server.employee.email)
    for question in ("Where is the moon base cafeteria?", "Who painted the office unicorn?"):
        page.get_by_role("button", name="New chat").click()
        ask(page, question)
        answered(page)
    conversations = page.locator(".conversation-link")
    conversations.filter(has_text="moon base").wait_for()

    page.get_by_label("Search conversations by title").fill("unicorn")
    page.wait_for_function("() => document.querySelectorAll('.conversation-link').length === 1")
    assert conversations.first.inner_text() == "Who painted the office unicorn?"

    page.get_by_role("button", name="Rename “Who painted the office unicorn?”").click()
    title = page.get_by_label("New title")
    title.fill("Unicorn mystery")
    title.press("Enter")
    page.get_by_label("Search conversations by title").fill("")
    conversations.filter(has_text="Unicorn mystery").wait_for()
    assert page.locator("#chat-title").inner_text() == "Unicorn mystery"

    page.get_by_role("button", name="Delete “Unicorn mystery”").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    conversations.filter(has_text="Unicorn mystery").wait_for(state="detached")
    assert page.locator("#chat-title").inner_text() == "New chat"


def test_the_chat_works_at_phone_width(make_context, ui_server):
    page = make_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    log_in(page, ui_server.employee.email)
    sidebar = page.locator("#sidebar")
    assert sidebar.is_hidden()  # folded away, out of the tab order
    composer = page.get_by_label("Your question")
    box = composer.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390

    ask(page, NOTHING)
    answer = answered(page)
    assert answer.locator(".nothing-found").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing sticks out sideways
    screenshot(page, "chat-phone.png")

    page.get_by_role("button", name="Show conversations").click()
    sidebar.wait_for(state="visible")
    page.wait_for_function("() => document.getElementById('sidebar').getBoundingClientRect().left === 0")  # slid in
    assert page.locator(".conversation-link").first.is_visible()
    assert page.evaluate("[document.documentElement.scrollWidth, innerWidth]") == [390, 390]  # the page stays put
    screenshot(page, "chat-phone-sidebar.png")
    page.keyboard.press("Escape")
    sidebar.wait_for(state="hidden")
