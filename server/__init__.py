"""The centre server (``superbrain serve``): an HTTPS API over the service layer.

It owns the engines and their credentials; consoles hold only a session token. The package is
thin on purpose: ``auth`` turns a token into a :class:`core.security.Session`, ``routes`` turns
a request into a :func:`core.services.call`, ``push`` streams the change journal to consoles.
Roles are never checked here beyond "the session is valid": the service layer checks and
audits every call. Starlette and uvicorn are imported only in this package.
"""
