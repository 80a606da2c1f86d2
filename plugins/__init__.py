"""Data sources as plugins: the contract, discovery, the generic mapping source, built-ins."""
