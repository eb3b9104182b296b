"""Build ``astroquery_ps1tap/data/ps1dr2_schema.json`` from the PS1 DR2 reference catalogues.

The package needs, for every table of the MAST service, its column names in the service's spelling
(for validation and case-insensitive look-up) and each column's database type and unit (results take
their units from the schema, never from the service's response).  Names come from the table/column
catalogue printed by pyvo for the current MAST service; types, units and descriptions come from
MAST's recorded mean-table metadata where it has the column, and otherwise from the naming rules of
the PS1 schema (CasJobs schema browser), encoded below.

MAST's newer service (schema ``ps1_dr2``) publishes the same tables under snake_case names, some
with a few more columns; which ``dbo`` table each one equals, and the columns it adds, are in
``astroquery_ps1tap/data/ps1_dr2_tables.json`` (written by hand from MAST's notebooks: see the
developer notes).  Their column lists are written here from that file, so both schemas' tables are
in the one catalogue.

Run from the repository root with the shared reference folder beside it::

    python tools/build_schema.py ../shared/reference/ps1dr2
"""
import json
import re
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "astroquery_ps1tap" / "data"
OUT = DATA / "ps1dr2_schema.json"
PS1_DR2_TABLES = DATA / "ps1_dr2_tables.json"

BIGINT = {"objID", "detectID", "ippObjID", "ippDetectID", "uniquePspsP2id", "uniquePspsOBid",
          "uniquePspsSTid", "uniquePspsFWid", "uniquePspsFOid", "forcedWarpID", "forcedSummaryID",
          "imageID", "htmID", "batchID", "infoFlag", "FinfoFlag", "value", "bestDetection",
          "frameID", "stackImageID", "stackDetectID", "diffImageID", "diffDetectID", "diffObjID",
          "warpID"}
TINYINT = {"filterID", "surveyID", "processingVersion", "tessID", "skyCellID", "qualityFlag",
           "primaryDetection", "ccdID", "FccdID"}
SMALLINT_RE = re.compile(r"^(n[grizy]|nDetections|nStack\w*|\w*Npt|\w*nFrames|\w*nInc\w*|\w*nTotal|"
                         r"projectionID)$")
INTEGER = {"dvoRegionID", "zoneID", "objInfoFlag", "infoFlag2", "infoFlag3", "infoFlag4",
           "FinfoFlag2", "FinfoFlag3", "FinfoFlag4"}
DOUBLE = {"obsTime", "ra", "dec", "raMean", "decMean", "raStack", "decStack", "epochMean", "cx", "cy",
          "cz", "lambda", "beta", "l", "b", "randomID", "randomDetID", "randomWarpID",
          "randomStackObjID", "randomForcedObjID", "posMeanChisq"}
STRING = {"objName", "objAltName1", "objAltName2", "objAltName3", "objNameHMS", "objPopularName",
          "filterType", "name", "description", "hexadecimal"}

DESCRIPTIONS = {
    "obsTime": "Modified Julian Date at the midpoint of the exposure, TAI time scale.",
    "ra": "Right ascension of the detection (J2000, ICRS).",
    "dec": "Declination of the detection (J2000, ICRS).",
    "psfFlux": "PSF flux.", "psfFluxErr": "Error in PSF flux.",
    "apFlux": "Aperture flux.", "apFluxErr": "Error in aperture flux.",
    "kronFlux": "Kron (1980) flux.", "kronFluxErr": "Error in Kron (1980) flux.",
    "psfQfPerfect": "PSF-weighted fraction of pixels totally unmasked (suspect pixels count as masked).",
    "psfMajorFWHM": "PSF major axis FWHM.", "psfMinorFWHM": "PSF minor axis FWHM.",
    "infoFlag": "Information flag bitmask (dbo.DetectionFlags).",
    "infoFlag2": "Information flag bitmask (dbo.DetectionFlags2).",
    "infoFlag3": "Information flag bitmask (dbo.DetectionFlags3).",
    "filterID": "Filter identifier: 1..5 = g, r, i, z, y.",
    "filterType": "Filter name (g, r, i, z, y).",
    "detectID": "Unique detection identifier.",
}


def base_name(name):
    """Strip the forced-photometry ``F`` prefix and a band prefix so rules apply to the root."""
    if re.match(r"^F[a-z]", name):
        return name[1:]
    return name


def db_type(name):
    for candidate in (name, base_name(name), re.sub(r"^[grizy](?=[a-z]|[A-Z])", "", name)):
        if candidate in BIGINT or candidate.endswith(("stackDetectID", "stackImageID", "ippDetectID")):
            return "BIGINT"
        if candidate in TINYINT:
            return "TINYINT"
        if candidate in INTEGER or candidate.endswith("Flags") or re.match(r"^\w*infoFlag[234]$", candidate):
            return "INTEGER"
        if re.match(r"^\w*infoFlag$", candidate):
            return "BIGINT"
        if SMALLINT_RE.match(candidate):
            return "SMALLINT"
        if candidate in DOUBLE or candidate.endswith("Epoch"):
            return "DOUBLE"
        if candidate in STRING:
            return "STRING"
    if re.match(r"^[grizy](ra|dec)$", name):
        return "DOUBLE"
    return "REAL"


def unit(name, dtype):
    root = base_name(name)
    if dtype == "STRING":
        return ""
    if re.match(r"^([grizy]?(ra|dec)|raMean|decMean|raStack|decStack|l|b|lambda|beta|psfTheta|posAngle)$", root):
        return "deg"
    if re.match(r"^[grizy]?(ra|dec)(Mean|Stack)?Err$", name):
        return "arcsec"
    if re.search(r"(Flux|flx\w*)(Err|Std)?$", root) and not root.endswith("Fill"):
        return "Jy"
    if re.search(r"Mag(Err|Std|Min|Max)?$", root) or re.search(r"MagR\d(Err)?$", root) or root == "zp":
        return "mag"
    if re.search(r"FWHM$", root) or root in ("kronRad", "apRadius", "momentR1", "momentRH") \
            or re.match(r"^[grizy](KronRad|ApRadius)$", root):
        return "arcsec"
    if root in ("obsTime", "epochMean") or root.endswith("Epoch"):
        return "d"
    if root == "expTime":
        return "s"
    return ""


def ps1_dr2_tables(dbo):
    """Column lists of the ``ps1_dr2`` tables: their ``dbo`` twin's, plus borrowed and new columns."""
    tables = {}
    for table, spec in json.loads(PS1_DR2_TABLES.read_text()).items():
        rows = [list(row) for row in dbo[spec["same_as"]]]
        for other, names in spec.get("from", {}).items():
            rows += [list(row) for row in dbo[other] if row[0] in names]
        rows += [list(row) for row in spec.get("new", [])]
        names = [row[0].lower() for row in rows]
        if len(set(names)) != len(names):
            raise ValueError(f"{table}: a column is listed twice")
        tables[table] = sorted(rows, key=lambda row: row[0].lower())
    return tables


def main(reference):
    reference = Path(reference)
    names = json.loads((reference / "tap_tables_columns_votap_2024-02.json").read_text())
    meta = {r["name"]: r for r in json.loads(
        (reference / "astroquery_panstarrs_dr2_mean_metadata.json").read_text())}
    schema = {}
    for table, columns in sorted(names.items()):
        rows = []
        for name in columns:
            name = name.strip('"')
            if name in meta:
                m = meta[name]
                dtype = m["db_type"]
                u = "" if m["unit"] == "NULL" else m["unit"]
                if u == "deg" and name.endswith("Err"):
                    u = "arcsec"  # PS1 schema: positional errors are arcsec
                desc = m["description"]
            else:
                dtype = db_type(name)
                u = unit(name, dtype)
                desc = DESCRIPTIONS.get(base_name(name), DESCRIPTIONS.get(name, ""))
                if name != base_name(name) and desc:
                    desc = "Forced photometry: " + desc[0].lower() + desc[1:]
            rows.append([name, dtype, u, desc])
        schema[table] = rows
    schema.update(ps1_dr2_tables(schema))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(schema, indent=0, sort_keys=True) + "\n")
    print(f"wrote {OUT} ({len(schema)} tables)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/reference/ps1dr2")
