"""The admin's Documents page says how each document was read, and a cited PDF page opens at that page.

Failure modes covered: the Read column missing OCR or its confidence, and a source link losing its page.
"""

from __future__ import annotations

import io
import re

from tests.conftest import text_image
from tests.ui.conftest import log_in


def test_the_documents_page_shows_what_ocr_read(page, ui_server):
    image = io.BytesIO()
    text_image(["The mail room opens at eight and closes at four."]).save(image, "PNG")
    uploaded = ui_server.admin.client.post("/api/v1/documents", files={"files": ("mail-room.png", image.getvalue())})
    assert uploaded.json()[0]["status"] == "added", uploaded.text
    log_in(page, ui_server.admin.email)
    page.goto("/admin/documents?q=mail-room")

    read = page.locator("tr", has_text="mail-room.png").locator(".document-read")
    read.wait_for()
    assert re.fullmatch(r"1 frame · 1 by OCR \(\d{2,3}% confidence\)", read.inner_text())


def test_a_source_on_a_pdf_page_links_to_that_page(page, ui_server):
    log_in(page, ui_server.employee.email)
    links = page.evaluate(
        """async () => {
            const { sourceLink } = await import("/static/js/common.js");
            return [sourceLink({ id: "d1", source_type: "upload", page: 3 }),
                    sourceLink({ id: "d2", source_type: "local", page: null })];
        }"""
    )
    assert links == ["/api/v1/documents/d1/content#page=3", "/api/v1/documents/d2/content"]
