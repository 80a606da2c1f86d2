"""The centre: a workspace whose shared state lives in PostgreSQL (and Elasticsearch), so that
several server processes and ingest jobs on several machines act on one truth.

``centre.db`` adapts PostgreSQL (psycopg 3) to the connection interface the engines already
use on SQLite; ``centre.workspace`` opens a :class:`~core.workspace.Workspace` backed by it.
psycopg is imported only in this package.
"""
