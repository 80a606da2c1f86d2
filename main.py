"""Entry point: ``superbrain`` and ``python main.py``. The only place that configures logging."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    verbose = "-v" in args or "--verbose" in args
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("jieba").setLevel(logging.WARNING)
    if not verbose:
        # The Elasticsearch transport logs a traceback for every retried connection; the search
        # package reports an unreachable cluster itself, once and clearly.
        logging.getLogger("elastic_transport").setLevel(logging.ERROR)
    from core.security import RedactingFilter

    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter())  # URL credentials, api keys, passwords never logged
    from core.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
