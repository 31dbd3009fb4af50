"""SharePoint Online document libraries, read through Microsoft Graph with an app-only (client-credentials) sign-in.

``connector.py`` is the entry point. Beside it: ``config.py`` (what an admin fills
in), ``auth.py`` (sign-in with msal), ``graph.py`` (the HTTP client), ``errors.py``
(messages for the admin), ``libraries.py`` (sites and their document libraries),
``delta.py`` (the change feed and its checkpoint), ``paths.py`` (folder paths) and
``acl.py`` (who may read a file).
"""
