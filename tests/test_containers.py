"""Unpacking containers (mails, zip archives) into parts, on real files.

Failure modes covered: an attachment or member lost, misnamed or keyed so that two collide; a part of a
part not reached, or reached past the nesting limit; a file type Enclave cannot read handed on as a part;
each limit (files, expanded size, ratio) not enforced, or refused without naming the setting to change; a
member's name from inside the archive written to disk; a part's id not traced back to its container.
"""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from ingest.containers import Limits, Refused, holders, unpack
from ingest.parse import parse
from tests.format_samples import eml_bytes, msg_bytes, pdf_bytes, zip_bytes

PDF = pdf_bytes("The invoice total is 4711 kroner.")


def _keys(parts) -> list[str]:
    return [part.key for part in parts]


def test_mail_attachments_become_parts_named_after_the_mail():
    mail = eml_bytes("Quarterly invoice", "See attached.", {"invoice.pdf": PDF, "notes.txt": b"Pay by Friday.\n",
                                                            "setup.exe": b"MZ\x90\x00"})  # fmt: skip
    parts = unpack(mail, "mail.eml", None, "mail.eml", Limits())
    assert _keys(parts) == ["attachment/1-invoice.pdf", "attachment/2-notes.txt"]  # a program is no text
    assert parts[0].title == "invoice.pdf (attachment of: Quarterly invoice)"
    assert parts[0].content == PDF and parts[1].content == b"Pay by Friday.\n"


def test_outlook_attachments_become_parts():
    mail = msg_bytes("Quarterly invoice", "See attached.", {"invoice.pdf": PDF})
    [part] = unpack(mail, "mail.msg", None, "mail.msg", Limits())
    assert (part.key, part.title, part.content) == (
        "attachment/1-invoice.pdf", "invoice.pdf (attachment of: Quarterly invoice)", PDF
    )


@pytest.mark.parametrize(("make", "filename"), [(eml_bytes, "scan.eml"), (msg_bytes, "scan.msg")])
def test_a_mail_with_nothing_but_an_attachment_is_still_a_document(make, filename):
    mail = make("Scan from the copier", "", {"scan.pdf": PDF})
    [section] = parse(mail, filename)
    assert section.text.startswith("Subject: Scan from the copier\nFrom:") and "Attachments: scan.pdf" in section.text
    assert _keys(unpack(mail, filename, None, filename, Limits())) == ["attachment/1-scan.pdf"]


def test_an_html_mail_is_read_as_text():
    message = EmailMessage()
    message["Subject"], message["From"] = "Menu", "canteen@example.com"
    message.set_content("<html><body><h1>Menu</h1><p>Herring on <b>Thursday</b>.</p></body></html>", subtype="html")
    text = "\n".join(section.text for section in parse(message.as_bytes(), "menu.eml"))
    assert "Herring on Thursday." in text and "<b>" not in text


def test_archive_members_are_labels_never_paths_on_disk(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    archive = zip_bytes({"a.txt": b"alpha\n", "docs/b.md": b"# beta\n", "../../escape.txt": b"gamma\n",
                         "docs/": b"", "tool.exe": b"MZ\x90"})  # fmt: skip
    parts = unpack(archive, "bundle.zip", None, "bundle.zip", Limits())
    assert _keys(parts) == ["member/a.txt", "member/docs/b.md", "member/../../escape.txt"]
    assert parts[2].title == "../../escape.txt (in bundle.zip)" and parts[2].filename == "escape.txt"
    assert list(tmp_path.iterdir()) == [] and not (tmp_path.parent.parent / "escape.txt").exists()


def test_nested_containers_are_unpacked_down_to_the_depth_limit():
    inner = zip_bytes({"deep.txt": b"delta\n", "deeper.zip": zip_bytes({"deepest.txt": b"epsilon\n"})})
    mail = eml_bytes("Bundle", "Files attached.", {"bundle.zip": zip_bytes({"inner.zip": inner})})
    parts = unpack(mail, "mail.eml", None, "mail.eml", Limits(depth=3))
    assert _keys(parts) == [
        "attachment/1-bundle.zip",
        "attachment/1-bundle.zip#member/inner.zip",
        "attachment/1-bundle.zip#member/inner.zip#member/deep.txt",
        "attachment/1-bundle.zip#member/inner.zip#member/deeper.zip",
    ]  # deeper.zip is a fourth container: indexed by its names, not opened
    assert parts[2].title == "deep.txt (in inner.zip (in bundle.zip (attachment of: Bundle)))"
    assert _keys(unpack(mail, "mail.eml", None, "mail.eml", Limits(depth=1))) == ["attachment/1-bundle.zip"]


@pytest.mark.parametrize(
    ("limits", "setting"),
    [
        (Limits(files=2), "archive_max_files"),
        (Limits(total_bytes=3 * 2**20), "archive_max_mb"),
        (Limits(ratio=10), "archive_max_ratio"),
    ],
)
def test_an_archive_over_a_limit_is_refused_naming_the_setting(limits, setting):
    # Two megabytes of zeros and one of text each compress far below 10%: over every limit given here.
    nested = zip_bytes({"zeros.txt": bytes(2 * 2**20), "text.txt": b"zeta\n" * 2**18})
    archive = zip_bytes({"readme.txt": b"eta\n", "nested.zip": nested})
    with pytest.raises(Refused, match=setting):
        unpack(archive, "big.zip", None, "big.zip", limits)


def test_a_broken_archive_says_so():
    with pytest.raises(Exception, match="could not read the files inside"):
        unpack(b"PK\x03\x04 not really a zip", "broken.zip", None, "broken.zip", Limits())


def test_a_part_is_traced_to_its_containers():
    assert holders("/share/mail.eml#attachment/1-x.zip#member/a.txt") == [
        "/share/mail.eml", "/share/mail.eml#attachment/1-x.zip"
    ]
    assert holders("/share/C# notes.txt") == []
