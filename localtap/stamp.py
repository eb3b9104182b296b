"""What a loaded or built copy of the sample database was made from: one hash for both copies.

The local TAP server (``server.py``) and the local HATS catalogs (``hatsdb.py``) stamp what they
hold with `digest`; when the stamp of the files in the checkout matches, they are reused.
Importable without numpy (the scripts' fast paths stay fast).
"""
import hashlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCHEMA = HERE.parent / "astroquery_ps1tap" / "data" / "ps1dr2_schema.json"


def digest(scripts, extra=()):
    """SHA-256 (hex) of the named ``localtap/`` scripts, the real rows, the PS1 schema and the
    strings ``extra`` (options, versions), in that order."""
    h = hashlib.sha256()
    for name in scripts:
        h.update((HERE / name).read_bytes())
    for p in sorted((HERE / "realrows").glob("*.csv")):
        h.update(p.read_bytes())
    h.update(SCHEMA.read_bytes())
    for text in extra:
        h.update(text.encode())
    return h.hexdigest()
