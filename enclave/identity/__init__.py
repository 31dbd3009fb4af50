"""Company identity: signing people in through the directory — OpenID Connect single sign-on (``oidc.py``),
LDAP / Active Directory (``ldap.py``, ``sign_in.py``) — and keeping everyone's groups, and so what they may
read, in step with it (``groups.py`` from LDAP and Microsoft Graph, on a schedule: ``scheduler.py``)."""
