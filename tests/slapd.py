"""A real OpenLDAP server (Debian's slapd) for directory tests, on loopback ports, with its own throwaway config.

``Slapd.start(folder)`` writes a slapd.conf (mdb database, the memberof and ppolicy overlays, TLS with a
trustme certificate), starts slapd in the foreground on ``ldap://`` (StartTLS offered) and ``ldaps://``,
and loads a small company: people under ou=people, groups under ou=groups with ``hr-leads`` nested in
``hr`` and two groups nested in each other (a cycle), a service account Enclave binds as, and a person
whose account is locked (``pwdAccountLockedTime``). Tests change the directory with ldap3 as its root.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import ldap3

from tests.emulators.server import TestCA

SUFFIX = "dc=example,dc=com"
ROOT_DN, ROOT_PASSWORD = f"cn=root,{SUFFIX}", "root-secret"
SERVICE_DN, SERVICE_PASSWORD = f"cn=enclave,ou=services,{SUFFIX}", "service-secret"
PEOPLE, GROUPS = f"ou=people,{SUFFIX}", f"ou=groups,{SUFFIX}"
# Debian installs slapd in /usr/sbin, which is not on every user's PATH.
SLAPD = shutil.which("slapd", path=f"/usr/sbin:/usr/bin:{os.environ.get('PATH', '')}")
# pwdAccountLockedTime's value for "locked until an administrator unlocks it".
LOCKED_FOR_GOOD = "000001010000Z"

CONFIG = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
moduleload ppolicy
pidfile {folder}/slapd.pid
argsfile {folder}/slapd.args
TLSCACertificateFile {ca.ca_pem}
TLSCertificateFile {ca.cert_pem}
TLSCertificateKeyFile {ca.key_pem}

database mdb
suffix "{suffix}"
rootdn "{root_dn}"
rootpw {root_password}
directory {folder}/db
maxsize 10485760
overlay memberof
overlay ppolicy
# People prove their password by binding; only signed-in accounts may read the directory.
access to attrs=userPassword by anonymous auth by * none
access to * by users read by * none
"""


@dataclass(frozen=True)
class Person:
    uid: str
    name: str
    password: str

    @property
    def dn(self) -> str:
        return f"uid={self.uid},{PEOPLE}"

    @property
    def email(self) -> str:
        return f"{self.uid}@example.com"


def group_dn(name: str) -> str:
    return f"cn={name},{GROUPS}"


class Slapd:
    """One slapd process; ``url`` offers StartTLS, ``ldaps_url`` is TLS from the first byte."""

    def __init__(self, folder: Path, ca: TestCA):
        self.folder, self.ca = folder, ca
        self.port, self.ldaps_port = _free_port(), _free_port()
        self.url = f"ldap://127.0.0.1:{self.port}"
        self.ldaps_url = f"ldaps://localhost:{self.ldaps_port}"
        self._process: subprocess.Popen | None = None

    def start(self) -> Slapd:
        (self.folder / "db").mkdir(parents=True, exist_ok=True)
        config = self.folder / "slapd.conf"
        config.write_text(CONFIG.format(folder=self.folder, ca=self.ca, suffix=SUFFIX, root_dn=ROOT_DN,
                                        root_password=ROOT_PASSWORD))  # fmt: skip
        listen = f"ldap://127.0.0.1:{self.port}/ ldaps://127.0.0.1:{self.ldaps_port}/"
        log = (self.folder / "slapd.log").open("w")
        # -d 0: stay in the foreground (the test owns the process), logging nothing but errors.
        self._process = subprocess.Popen([SLAPD, "-f", str(config), "-h", listen, "-d", "0"], stdout=log, stderr=log)
        self._wait_until_listening()
        return self

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=10)

    def settings(self, **overrides) -> dict:
        """Enclave's LDAP settings for this directory: StartTLS on ldap://, trusting the test CA."""
        return {
            "ldap_url": self.url, "ldap_start_tls": True, "ldap_ca_file": self.ca.ca_pem, "ldap_kind": "openldap",
            "ldap_bind_dn": SERVICE_DN, "ldap_bind_password": SERVICE_PASSWORD, "ldap_user_base": PEOPLE,
            "ldap_group_base": GROUPS, "ldap_admin_groups": ["it-admins"],
        } | overrides  # fmt: skip

    def root(self) -> ldap3.Connection:
        """A connection bound as the directory's root, to change it the way an administrator would."""
        return ldap3.Connection(ldap3.Server(self.url), ROOT_DN, ROOT_PASSWORD, auto_bind=True, raise_exceptions=True)

    def add_person(self, person: Person, locked: bool = False) -> None:
        attributes = {"cn": person.name, "sn": person.name.split()[-1], "displayName": person.name, "uid": person.uid,
                      "mail": person.email, "userPassword": person.password}  # fmt: skip
        if locked:
            attributes["pwdAccountLockedTime"] = LOCKED_FOR_GOOD
        with self.root() as directory:
            directory.add(person.dn, ["inetOrgPerson"], attributes)

    def add_group(self, name: str, *members: str) -> None:
        with self.root() as directory:
            directory.add(group_dn(name), ["groupOfNames"], {"cn": name, "member": list(members) or [ROOT_DN]})

    def add_member(self, group: str, member_dn: str) -> None:
        with self.root() as directory:
            directory.modify(group_dn(group), {"member": [(ldap3.MODIFY_ADD, [member_dn])]})

    def remove_member(self, group: str, member_dn: str) -> None:
        with self.root() as directory:
            directory.modify(group_dn(group), {"member": [(ldap3.MODIFY_DELETE, [member_dn])]})

    def lock(self, person: Person) -> None:
        with self.root() as directory:
            directory.modify(person.dn, {"pwdAccountLockedTime": [(ldap3.MODIFY_REPLACE, [LOCKED_FOR_GOOD])]})

    def delete(self, dn: str) -> None:
        with self.root() as directory:
            directory.delete(dn)

    def load_company(self) -> None:
        """The organisation every directory test starts from; people are added by each test module."""
        with self.root() as directory:
            directory.add(SUFFIX, ["dcObject", "organization"], {"dc": "example", "o": "Example"})
            for unit in ("people", "groups", "services"):
                directory.add(f"ou={unit},{SUFFIX}", ["organizationalUnit"], {"ou": unit})
            directory.add(SERVICE_DN, ["person", "simpleSecurityObject"], {"cn": "enclave", "sn": "enclave",
                                                                           "userPassword": SERVICE_PASSWORD})  # fmt: skip
        self.add_group("hr-leads")
        self.add_group("hr", group_dn("hr-leads"))
        self.add_group("engineering")
        self.add_group("it-admins")
        # A loop (a member of b, b of a): nested groups must be walked with a cycle guard.
        self.add_group("loop-a")
        self.add_group("loop-b", group_dn("loop-a"))
        self.add_member("loop-a", group_dn("loop-b"))

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"slapd exited: {(self.folder / 'slapd.log').read_text()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("slapd did not start listening") from None
                time.sleep(0.05)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dead_ldap_url() -> str:
    """An address where nothing listens: a directory that is down."""
    return f"ldap://127.0.0.1:{_free_port()}"
