"""Who people are, in the company directory's words: single sign-on with OpenID Connect (``oidc.py``)."""
