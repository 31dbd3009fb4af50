"""Connected sources: creating and changing connectors (``service.py``), their settings with secrets
sealed at rest (``configs.py``), running a sync (``sync.py``) and deciding when (``scheduler.py``)."""
