"""Domain core of superbrain: records, entities, links, the workspace, the store, ingest and audit.

Nothing here imports Qt, networkx, faiss, dlib or the Elasticsearch client; every engine builds
on these types.
"""
