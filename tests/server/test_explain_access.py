"""Explaining access to auditors: why a person may read a document, who else may, and what they would find."""

from __future__ import annotations

from datetime import timedelta

import pytest

from assistant import accounts

SALES_QUESTION = "What commission do account executives earn on deals above quota?"


def explain(server, user: str, document: str):
    return server.admin.client.get("/api/v1/access/explain", params={"user": user, "document": document})


def found_titles(server, user: str, question: str = SALES_QUESTION) -> set[str]:
    response = server.admin.client.get("/api/v1/access/search", params={"user": user, "q": question})
    response.raise_for_status()
    return {hit["title"] for hit in response.json()}


def test_a_member_reads_through_their_group_and_the_readers_say_who_else(enclave_server):
    answer = explain(enclave_server, "ana@example.com", enclave_server.documents["sales-bonus.md"]).json()
    assert answer["allowed"] and answer["title"] == "sales-bonus.md"
    assert answer["because"] == ["member of the group sales (set in Enclave)"]
    readers = {r["principal"]: r["people"] for r in answer["readers"]}
    assert readers == {"group:sales": ["ana@example.com"], "role:admin": ["admin@enclave.local", "boss@example.com"]}


def test_someone_outside_the_acl_is_told_why_not(enclave_server):
    answer = explain(enclave_server, "olaf@example.com", enclave_server.documents["board-minutes.md"]).json()
    assert not answer["allowed"]
    assert answer["because"] == [
        "olaf@example.com is not named in the document's permissions and none of their groups (none) may read it"
    ]
    # The CEO is named but has no Enclave account yet: the entry is listed with nobody behind it.
    assert {"principal": "user:ceo@example.com", "people": []} in answer["readers"]


def test_public_documents_and_admins_have_their_own_reasons(enclave_server):
    parking = enclave_server.documents["parking.md"]
    assert explain(enclave_server, "olaf@example.com", parking).json()["because"] == [
        "the document is public: everyone signed in may read it"
    ]
    board = explain(enclave_server, "boss@example.com", enclave_server.documents["board-minutes.md"]).json()
    assert board["allowed"] and board["because"] == ["an admin: admins see every document"]


def test_searching_as_a_person_finds_only_what_they_may_read(enclave_server):
    assert "sales-bonus.md" in found_titles(enclave_server, "ana@example.com")
    assert "sales-bonus.md" not in found_titles(enclave_server, "olaf@example.com")


def test_stale_directory_groups_show_in_both_answers(enclave_server, monkeypatch):
    runtime = enclave_server.runtime
    monkeypatch.setattr(runtime.settings, "ldap_url", "ldaps://ldap.example.com")  # LDAP groups re-read on a schedule
    with runtime.sessions() as session:
        person = accounts.sign_in_directory_person(
            session, method="ldap", subject="uid=sia,ou=people", email="sia@example.com", groups=["sales"]
        )
        person.groups_synced_at -= timedelta(minutes=runtime.settings.acl_max_staleness_minutes + 5)
        accounts.record_group_sync_failure(person, "ldap.example.com:636: connection refused")
        session.commit()
    answer = explain(enclave_server, "sia@example.com", enclave_server.documents["sales-bonus.md"]).json()
    assert not answer["allowed"] and "connection refused" in answer["because"][0]
    assert "sales-bonus.md" not in found_titles(enclave_server, "sia@example.com")


@pytest.mark.parametrize(
    "params, detail",
    [
        ({"user": "nobody@example.com", "document": "x"}, "no user nobody@example.com"),
        ({"user": "ana@example.com", "document": "no-such-document"}, "no document no-such-document"),
    ],
)
def test_unknown_people_and_documents_are_404(enclave_server, params, detail):
    response = enclave_server.admin.client.get("/api/v1/access/explain", params=params)
    assert response.status_code == 404 and response.json()["detail"] == detail


def test_employees_cannot_ask(enclave_server):
    params = {"user": "ana@example.com", "q": "bonus"}
    assert enclave_server.employee.client.get("/api/v1/access/search", params=params).status_code == 403
