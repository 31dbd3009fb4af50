"""SharePoint Online document libraries, read through Microsoft Graph with an app-only (client-credentials) sign-in.

``connector.py`` is the entry point. Beside it: ``config.py`` (what an admin fills
in), ``certificate.py`` (the certificate credential), ``auth.py`` (sign-in with
msal), ``graph.py`` (the HTTP client, for Graph and SharePoint's REST API),
``errors.py`` (messages for the admin), ``libraries.py`` (sites and their document
libraries), ``delta.py`` (the change feed and its checkpoint), ``paths.py`` (folder
paths), ``acl.py`` (who may read a file) and ``sitegroups.py`` (who is in each site
group, and which groups changed).
"""
