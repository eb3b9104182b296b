#!/usr/bin/env python3
"""Write the DaCHS resource descriptors (RDs) of the local PS1 DR2 TAP service.

Table definitions are generated from ``astroquery_ps1tap/data/ps1dr2_schema.json`` (column
names, types, units and descriptions of MAST's PS1 DR2 schema), so the local service has the
real names and types of the 11 tables the project uses.

* ``ps1dr2/q.rd`` (schema ``dbo``): the tables, the view ``MeanObjectView`` and how to load
  them: each table's ``make`` runs a ``preIndex`` script that bulk-loads the generator's binary
  COPY file (``COPY ... FROM STDIN (FORMAT binary)``), then DaCHS builds the indexes; a
  ``postCreation`` script runs ANALYZE.
* ``ps1dr2pub/q.rd`` (schema ``public``): a view per table under the same name, so that the
  MAST tutorial's unqualified ADQL (``FROM Detection NATURAL JOIN Filter``) works as at MAST.
* ``ps1_dr2/q.rd`` (schema ``ps1_dr2``): the tables of MAST's newer service, as views over the
  ``dbo`` tables they equal (``astroquery_ps1tap/data/ps1_dr2_tables.json``): the same rows under
  snake_case names (``ps1_dr2.mean_object``, ``ps1_dr2.detection``, ...), no ``filter`` table.
  Served: each table seen at MAST whose ``dbo`` twin the sample has, with the columns the sample
  has data for (not the proper motions MAST added to ``mean_object``).

Usage: python localtap/make_rd.py OUTDIR   (writes OUTDIR/<rd>.rd for each of RDS)
"""
import json
import sys
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

HERE = Path(__file__).resolve().parent
SCHEMA_PATH = HERE.parent / "astroquery_ps1tap" / "data" / "ps1dr2_schema.json"
PS1_DR2_PATH = HERE.parent / "astroquery_ps1tap" / "data" / "ps1_dr2_tables.json"
#: The resource descriptors, in import order (the views of the others read ``ps1dr2/q``'s tables).
RDS = ["ps1dr2/q", "ps1dr2pub/q", "ps1_dr2/q"]

TABLES = ["Filter", "DetectionFlags", "DetectionFlags2", "DetectionFlags3", "ObjectThin",
          "MeanObject", "StackObjectThin", "ForcedMeanObject", "Detection",
          "ForcedWarpMeasurement"]
VIEW = "MeanObjectView"
#: Views over ObjectThin and one other table, as at MAST: name -> the other table.  Columns are
#: taken from ObjectThin first, then from the other table; StackObjectView columns that live in
#: StackObjectAttributes at MAST (not in the sample) are derived from magnitudes or NULL.
VIEWS = {"MeanObjectView": "MeanObject", "StackObjectView": "StackObjectThin",
         "ForcedMeanObjectView": "ForcedMeanObject"}
SQL_TYPE = {"BIGINT": "bigint", "INTEGER": "integer", "SMALLINT": "smallint",
            "TINYINT": "smallint", "REAL": "real", "DOUBLE": "double precision", "STRING": "text"}
DACHS_TYPE = {"BIGINT": "bigint", "INTEGER": "integer", "SMALLINT": "smallint",
              "TINYINT": "smallint", "REAL": "real", "DOUBLE": "double precision",
              "STRING": "text"}
NULLS = {"bigint": "-9223372036854775808", "integer": "-2147483648", "smallint": "-32768"}
# ADQL reserved words used as PS1 column names: DaCHS accepts them as delimited identifiers
# ("quoted/value" in the RD; users write "value" in ADQL, as at MAST).
RESERVED = {"value"}
PRIMARY = {"ObjectThin": "objID", "MeanObject": "objID", "StackObjectThin": "objID",
           "ForcedMeanObject": "objID", "Filter": "filterID", "Detection": "detectID",
           "DetectionFlags": "name", "DetectionFlags2": "name", "DetectionFlags3": "name"}
INDEXES = {"Detection": ["objID"], "ForcedWarpMeasurement": ["objID"]}
UCDS = {("ObjectThin", "raMean"): "pos.eq.ra;meta.main",
        ("ObjectThin", "decMean"): "pos.eq.dec;meta.main",
        ("ObjectThin", "objID"): "meta.id;meta.main",
        ("Detection", "obsTime"): "time.epoch",
        ("Detection", "ra"): "pos.eq.ra", ("Detection", "dec"): "pos.eq.dec"}
DESCRIPTIONS = {
    "Filter": "Filters of the PS1 photometric system (filterID 1..5 = g, r, i, z, y).",
    "DetectionFlags": "Bits of Detection.infoFlag.",
    "DetectionFlags2": "Bits of Detection.infoFlag2 (sample: bits occurring in the data).",
    "DetectionFlags3": "Bits of Detection.infoFlag3 (sample: bits occurring in the data).",
    "ObjectThin": "Objects: positions and numbers of detections (sample data).",
    "MeanObject": "Mean photometry of the single-epoch detections per filter (sample data).",
    "StackObjectThin": "Photometry on the stacked images (sample data).",
    "ForcedMeanObject": "Mean forced-warp photometry per filter (sample data).",
    "Detection": "Single-epoch detections (sample data; obsTime is MJD, TAI).",
    "ForcedWarpMeasurement": "Forced photometry on every warp at each object's position,"
                             " including epochs without a detection (sample data).",
    "MeanObjectView": "ObjectThin joined with MeanObject (sample data).",
    "StackObjectView": "ObjectThin joined with StackObjectThin (sample data; the columns that"
                       " come from StackObjectAttributes at MAST are NULL, fluxes are derived"
                       " from the magnitudes).",
    "ForcedMeanObjectView": "ObjectThin joined with ForcedMeanObject (sample data).",
}


def load_schema():
    with open(SCHEMA_PATH) as f:
        raw = json.load(f)
    return {k.split(".", 1)[1]: v for k, v in raw.items()}


def column_xml(table, name, dbtype, unit, description, required=False):
    t = DACHS_TYPE[dbtype]
    rd_name = f"quoted/{name}" if name.lower() in RESERVED else name
    attrs = [f"name={quoteattr(rd_name)}", f"type={quoteattr(t)}"]
    if unit:
        attrs.append(f"unit={quoteattr(unit)}")
    ucd = UCDS.get((table, name))
    if ucd:
        attrs.append(f"ucd={quoteattr(ucd)}")
    if required:
        attrs.append('required="True"')
    if description:
        attrs.append(f"description={quoteattr(description)}")
    inner = ""
    if t in NULLS and not required:
        inner = f'<values nullLiteral="{NULLS[t]}"/>'
    return f"    <column {' '.join(attrs)}>{inner}</column>"


def sql_col(name):
    return '"value"' if name.lower() in RESERVED else name.lower()


def derived(name, dbtype):
    """SQL for a StackObjectView column that StackObjectThin does not have."""
    import re
    m = re.match(r"^([grizy])(PSF|Ap|Kron)Flux(Err)?$", name)
    if m:
        b, kind, err = m.groups()
        mag = f"s.{b}{kind.lower()}mag"
        flux = f"power(10.0, -0.4 * ({mag} - 8.9))"
        if err:
            flux = f"{flux} * s.{b}{kind.lower()}magerr / 1.0857"
        return f"CAST(CASE WHEN {mag} > -999 THEN {flux} ELSE -999 END AS real)"
    return f"CAST(NULL AS {SQL_TYPE[dbtype]})"


def view_xml(schema, view, other):
    ot = {c[0] for c in schema["ObjectThin"]}
    oc = {c[0] for c in schema[other]}
    out = [f'  <table id="{view}" onDisk="True" adql="True">',
           f"    <meta name=\"description\">{escape(DESCRIPTIONS[view])}</meta>"]
    sel = []
    for name, dbtype, unit, desc in schema[view]:
        src = "ObjectThin" if name in ot else other
        out.append(column_xml(src, name, dbtype, unit, desc, required=name == "objID"))
        if name in ot:
            sel.append("o." + sql_col(name))
        elif name in oc:
            sel.append("s." + sql_col(name))
        else:
            sel.append(derived(name, dbtype))
    out.append("    <viewStatement>CREATE VIEW \\qName (\\colNames) AS SELECT "
               + ", ".join(sel)
               + f" FROM \\schema.ObjectThin AS o JOIN \\schema.{other} AS s"
                 " ON o.objid = s.objid</viewStatement>")
    out.append("  </table>")
    return out


def main_rd(schema):
    out = ['<?xml version="1.0" encoding="utf-8"?>',
           '<!-- generated by localtap/make_rd.py from ps1dr2_schema.json; do not edit -->',
           '<resource schema="dbo" resdir="ps1dr2">',
           '  <meta name="title">PS1 DR2 sample (local test service)</meta>',
           '  <meta name="description">A small, deterministic, PS1-DR2-shaped sample database'
           ' published with the table and column names of MAST\'s PS1 DR2 TAP service, for'
           ' testing astroquery_ps1tap without network access.</meta>',
           '  <meta name="creationDate">2026-11-24T00:00:00</meta>',
           '  <meta name="subject">photometry</meta>',
           '  <meta name="creator.name">astroquery_ps1tap developers</meta>',
           ]
    for table in TABLES:
        cols = schema[table]
        prim = PRIMARY.get(table)
        attrs = f'id="{table}" onDisk="True" adql="True"'
        if prim:
            attrs += f' primary="{prim}"'
        out.append(f"  <table {attrs}>")
        out.append(f"    <meta name=\"description\">{escape(DESCRIPTIONS[table])}</meta>")
        for col in INDEXES.get(table, []):
            out.append(f'    <index columns="{col}"/>')
        if table == "ObjectThin":
            out.append('    <FEED source="//scs#spoint-index-def" ra="raMean" dec="decMean"/>')
        for name, dbtype, unit, desc in cols:
            req = name == prim or name in ("objID", "detectID", "filterID") and table != "Filter"
            out.append(column_xml(table, name, dbtype, unit, desc, required=req or name == prim))
        out.append("  </table>")
    for view, other in VIEWS.items():
        out.extend(view_xml(schema, view, other))
    for table in TABLES:
        out.append(f'  <data id="import_{table}">')
        out.append(f'    <make table="{table}">')
        out.append(f'      <script type="preIndex" lang="python" name="bulk load {table}">')
        out.append("        import os")
        out.append(f'        base = os.path.join(table.tableDef.rd.resdir, "data", "{table}")')
        out.append('        with open(base + ".columns") as f:')
        out.append("          columns = f.read().strip()")
        out.append("        cursor = table.connection.cursor()")
        out.append('        with open(base + ".pgcopy", "rb") as f:')
        out.append('          cursor.copy_expert("COPY %s (%s) FROM STDIN WITH (FORMAT binary)"'
                   ' % (table.tableName, columns), f)')
        out.append("        cursor.close()")
        out.append("      </script>")
        out.append('      <script type="postCreation" lang="SQL" name="analyze">'
                   "ANALYZE \\qName</script>")
        out.append("    </make>")
        out.append("  </data>")
    for view in VIEWS:
        out.append(f'  <data id="import_{view}"><make table="{view}"/></data>')
    out.append("</resource>")
    return "\n".join(out) + "\n"


def public_rd(schema):
    """Views in schema public with the dbo tables' names (unqualified ADQL, as at MAST)."""
    out = ['<?xml version="1.0" encoding="utf-8"?>',
           '<!-- generated by localtap/make_rd.py; do not edit -->',
           '<resource schema="public" resdir="ps1dr2pub">',
           '  <meta name="title">PS1 DR2 sample: unqualified table names</meta>',
           '  <meta name="description">Views named like the dbo tables, so that ADQL with'
           ' unqualified table names (FROM Detection NATURAL JOIN Filter) works as at'
           ' MAST.</meta>',
           '  <meta name="creationDate">2026-11-24T00:00:00</meta>',
           '  <meta name="subject">photometry</meta>']
    names = TABLES + list(VIEWS)
    for table in names:
        out.append(f'  <table id="{table}" onDisk="True" adql="True"'
                   f' original="ps1dr2/q#{table}">')
        out.append(f"    <meta name=\"description\">Same as dbo.{table}.</meta>")
        cols = ", ".join(sql_col(c[0]) for c in schema[table])
        out.append(f"    <viewStatement>CREATE VIEW \\qName ({cols}) AS SELECT {cols}"
                   f" FROM dbo.{table}</viewStatement>")
        out.append("  </table>")
    return views_rd_end(out, names)


def views_rd_end(out, views):
    """Close an RD of views (``out``, its lines so far): one ``data`` making them all."""
    out.append('  <data id="import">')
    for table in views:
        out.append(f'    <make table="{table}"/>')
    out.append("  </data>")
    out.append("</resource>")
    return "\n".join(out) + "\n"


def ps1_dr2_served(schema):
    """``{ps1_dr2 table: (its dbo twin, borrowed {column: dbo table}, columns served)}``."""
    served = {}
    local = set(TABLES) | set(VIEWS)
    for name, spec in json.loads(PS1_DR2_PATH.read_text()).items():
        twin = spec["same_as"].split(".", 1)[1]
        borrowed = {c: other.split(".", 1)[1] for other, cols in spec.get("from", {}).items()
                    for c in cols}
        if not spec["seen"] or twin not in local or not set(borrowed.values()) <= local:
            continue
        have = {c[0] for c in schema[twin]} | set(borrowed)
        columns = [c for c in schema[name.split(".", 1)[1]] if c[0] in have]
        served[name.split(".", 1)[1]] = (twin, borrowed, columns)
    return served


def ps1_dr2_rd(schema):
    """Schema ps1_dr2 as on MAST's newer service: views over the dbo tables they equal."""
    out = ['<?xml version="1.0" encoding="utf-8"?>',
           '<!-- generated by localtap/make_rd.py from ps1_dr2_tables.json; do not edit -->',
           '<resource schema="ps1_dr2" resdir="ps1_dr2">',
           '  <meta name="title">PS1 DR2 sample: the ps1_dr2 schema of MAST\'s newer service</meta>',
           '  <meta name="description">The sample\'s rows under the table names of MAST\'s'
           ' Postgres-backed PS1 DR2 service (ps1_dr2.mean_object, ps1_dr2.detection, ...),'
           ' as views over the dbo tables; no filter table.</meta>',
           '  <meta name="creationDate">2026-11-29T00:00:00</meta>',
           '  <meta name="subject">photometry</meta>']
    served = ps1_dr2_served(schema)
    for table, (twin, borrowed, columns) in served.items():
        out.append(f'  <table id="{table}" onDisk="True" adql="True">')
        out.append(f"    <meta name=\"description\">Same rows as dbo.{twin}"
                   + (f", with {', '.join(borrowed)} from dbo.ObjectThin" if borrowed else "")
                   + " (sample data).</meta>")
        select = []
        for name, dbtype, unit, desc in columns:
            origin = borrowed.get(name, twin)
            ucd_table = "ObjectThin" if name in ("objID", "raMean", "decMean") and twin != "Detection" \
                else origin
            out.append(column_xml(ucd_table, name, dbtype, unit, desc,
                                  required=name in ("objID", "detectID", "filterID")))
            select.append(("o." if name in borrowed else "t.") + sql_col(name))
        source = f"dbo.{twin.lower()} AS t"
        if borrowed:
            source += " JOIN dbo.objectthin AS o ON o.objid = t.objid"
        out.append("    <viewStatement>CREATE VIEW \\qName (\\colNames) AS SELECT "
                   + ", ".join(select) + f" FROM {source}</viewStatement>")
        out.append("  </table>")
    return views_rd_end(out, served)


def write(outdir):
    schema = load_schema()
    outdir = Path(outdir)
    for rd, text in zip(RDS, (main_rd(schema), public_rd(schema), ps1_dr2_rd(schema))):
        (outdir / rd).parent.mkdir(parents=True, exist_ok=True)
        (outdir / (rd + ".rd")).write_text(text)


if __name__ == "__main__":
    write(sys.argv[1])
