"""People the company directory vouches for: accounts made just in time, groups kept, fail closed when stale."""

from __future__ import annotations

from datetime import timedelta

import pytest

from assistant import accounts
from assistant.access import Access
from assistant.db import session_factory

HOUR = accounts.Freshness(timedelta(hours=1))  # every directory re-read on a schedule


@pytest.fixture
def db(tmp_path):
    with session_factory(f"sqlite:///{tmp_path / 'enclave.db'}")() as session:
        yield session


def sign_in(db, **changes):
    person = dict(method="oidc", subject="sub-ana", email="Ana@Example.com", name="Ana", groups=["HR", "staff"])
    return accounts.sign_in_directory_person(db, **(person | changes))


def test_first_sign_in_makes_an_employee_account_with_the_directory_groups(db):
    ana = sign_in(db)
    assert (ana.email, ana.name, ana.role, ana.auth_method, ana.subject) == (
        "ana@example.com", "Ana", "employee", "oidc", "sub-ana"
    )  # fmt: skip
    assert ana.groups == ["hr", "staff"] and ana.groups_synced_at is not None
    assert not accounts.verify_password(ana, accounts.UNUSABLE_PASSWORD)


def test_the_directory_subject_finds_the_person_after_their_email_changes(db):
    first = sign_in(db)
    again = sign_in(db, email="ana.lopez@example.com", groups=["hr"])
    assert again.id == first.id and again.groups == ["hr"]


def test_an_account_an_admin_made_earlier_is_taken_over_by_email(db):
    made = accounts.create_user(db, "ana@example.com", "employee", "a-long-password")
    taken = sign_in(db)
    assert taken.id == made.id and taken.auth_method == "oidc"
    assert accounts.verify_password(taken, "a-long-password")


def test_the_role_follows_the_directory_only_when_it_decides_roles(db):
    assert sign_in(db, admin=True).role == "admin"
    assert sign_in(db).role == "admin"
    assert sign_in(db, admin=False).role == "employee"


def test_a_disabled_account_cannot_sign_in(db):
    sign_in(db).disabled = True
    with pytest.raises(accounts.AccountError, match="disabled"):
        sign_in(db)


def test_group_changes_are_reported_as_gained_and_lost(db):
    ana = sign_in(db)
    assert accounts.record_directory_groups(ana, ["Staff", "finance"]) == ["+finance", "-hr"]


def test_stale_groups_hide_restricted_documents_but_not_public_ones(db):
    ana = sign_in(db)
    hr_only, public = Access.restricted(groups=["hr"]), Access.everyone()
    assert hr_only.allows(accounts.viewer_for(ana, HOUR))

    ana.groups_synced_at -= timedelta(hours=2)
    accounts.record_group_sync_failure(ana, "ldap.example.com: connection refused")
    viewer = accounts.viewer_for(ana, HOUR)
    assert not hr_only.allows(viewer) and public.allows(viewer)
    assert viewer.principals() == ["*"]
    assert "connection refused" in viewer.restricted_hidden

    accounts.record_directory_groups(ana, ["hr"])
    assert hr_only.allows(accounts.viewer_for(ana, HOUR))


def test_local_people_and_admins_are_never_hidden_for_staleness(db):
    local = accounts.create_user(db, "lee@example.com", "employee", "a-long-password", groups=["hr"])
    admin = sign_in(db, admin=True)
    admin.groups_synced_at -= timedelta(hours=2)
    assert Access.restricted(groups=["hr"]).allows(accounts.viewer_for(local, HOUR))
    assert accounts.viewer_for(admin, HOUR).sees_everything


def test_an_unconfirmed_address_takes_over_nobody(db):
    accounts.create_user(db, "ana@example.com", "employee", "a-long-password")
    with pytest.raises(accounts.AccountError, match="does not confirm that address"):
        sign_in(db, email_verified=False)


def test_the_break_glass_admin_is_never_taken_over(db):
    accounts.create_user(db, "ana@example.com", "admin", "a-long-password")
    with pytest.raises(accounts.AccountError, match="never takes over"):
        sign_in(db)


def test_people_whose_directory_is_not_re_read_keep_the_groups_of_their_sign_in(db):
    ana = sign_in(db)  # OpenID Connect, and no Microsoft Graph configured to re-read their groups
    ana.groups_synced_at -= timedelta(hours=2)
    only_ldap_synced = accounts.Freshness(timedelta(hours=1), frozenset({"ldap"}))
    assert Access.restricted(groups=["hr"]).allows(accounts.viewer_for(ana, only_ldap_synced))
