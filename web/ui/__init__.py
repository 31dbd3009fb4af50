"""The web interface: server-rendered pages (Jinja2) with plain JavaScript over the REST API.

``routes.py`` serves the pages (the overview page shows what GET
/api/v1/admin/overview answers); ``assets.py`` serves ``web/static`` with long-lived, versioned URLs. Every asset is served by
Enclave itself: nothing is loaded from another origin.
"""

from .assets import STATIC_DIR, StaticAssets
from .routes import router

__all__ = ["STATIC_DIR", "StaticAssets", "router"]
