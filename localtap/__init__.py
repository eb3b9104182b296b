"""The local PS1 DR2 sample database and the services that serve it (tests, benchmarks, docs).

Not part of the installed package: a package of the repository, importable from its root
(``from localtap import sample``).  Its scripts run as ``python localtap/server.py start`` and
``python localtap/hatsdb.py build``; ``docs/localtap.rst`` and ``docs/hats.rst`` describe them.
"""
