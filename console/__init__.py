"""The superbrain console: the PyQt6 desktop application (the only package that imports Qt).

Importing this package does not import Qt: ``core.cli`` imports :mod:`console.cli` to build its
parser on machines without a display. Qt modules are imported by :mod:`console.app` and the
panels; call :func:`console.qtinit.prepare` before the first ``QApplication`` is created.
"""
