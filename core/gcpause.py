"""Python's cyclic garbage collector held back while a bounded burst of allocations runs.

A graph expansion reads thousands of link rows (one tuple each) in tens of milliseconds. Every
~700 allocations Python runs a young collection, and every so often a full one, which walks
every tracked object of the process while holding the GIL: measured on the 1M-entity bench,
four full collections of ~32 ms each landed inside 40 expansions and made their slowest tail
(docs/PERFORMANCE.md, "Graph on the cluster"). The rows are plain tuples and dicts that
reference counting frees; nothing in the burst needs the cycle collector.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hold the cyclic collector back for the ``with`` block, then turn it back on if it was.

    Safe across threads in the sense that matters: the collector ends up enabled when every
    block that found it enabled has ended (a block that found it disabled leaves it alone).
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
