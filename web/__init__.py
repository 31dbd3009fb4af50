"""The web server: REST API, OpenAI-compatible endpoint and the web UI."""

import assistant.offline  # noqa: F401
