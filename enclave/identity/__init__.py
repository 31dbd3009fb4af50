"""Company identity: signing people in against the directory (LDAP / Active Directory) and keeping everyone's
groups, and so what they may read, in step with the directory (LDAP, Microsoft Graph)."""
