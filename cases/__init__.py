"""Case files: the analyst's work kept, shared and reported with its sources.

A case (number, title, classification, status, members with a case role) holds saved link
charts, notes, pinned evidence and an event journal. Its tables live in the workspace store
(``case_*``); every read and change goes through the service functions of
:mod:`cases.service`, which check the session's permission and the user's membership, bump a
version on each edit, journal a ``case`` event and write the audit entry. The console, the CLI
(``superbrain cases``) and the centre server are thin callers. No Qt here.
"""
