"""What a TAP service publishes of PS1 DR2, learnt from the service itself.

MAST serves PS1 DR2 in two schemas (``dbo`` on its legacy service, ``ps1_dr2`` on its newer one;
see `astroquery_ps1tap.schema`), and what the newer one holds is known only from MAST's notebooks.
So the client does not guess: one ``TAP_SCHEMA`` query (`astroquery_ps1tap.sources.tap.adql.metadata_query`)
tells which schemas, tables and columns a service has.  `ServiceMetadata` holds that answer and
uses it to choose the schema and to refuse, before sending it, a query that needs a table or column
the service does not publish.
"""
import re

from astroquery.exceptions import InvalidQueryError

from ... import schema as ps1
from ...tables import text as _text

__all__ = ["ServiceMetadata", "references"]

# ``FROM schema.Table AS x`` / ``JOIN schema.Table AS x`` in the ADQL the builders write.
_TABLE_ALIAS = re.compile(r"\b(?:FROM|JOIN)\s+([A-Za-z_][\w.]*)\s+AS\s+([A-Za-z_]\w*)", re.IGNORECASE)
_QUALIFIED = re.compile(r"\b([A-Za-z_]\w*)\.([A-Za-z_]\w*)\b")
_TEXT = re.compile(r"'(?:[^']|'')*'")


def references(query):
    """The tables a builder's ADQL reads and the columns it uses of each: ``{table: [column]}``.

    The builders of `astroquery_ps1tap.sources.tap.adql` give every table an alias and qualify
    every column by it, so the references are read off the text (quoted values left out);
    uploaded tables (``TAP_UPLOAD.x``) are not the service's and are left out.

    Examples
    --------
    >>> from astroquery_ps1tap.sources.tap import adql
    >>> references(adql.cone_query(1.0, 2.0, 0.1, columns=["objID"], schema="ps1_dr2"))
    {'ps1_dr2.mean_object': ['objID', 'raMean', 'decMean', 'nDetections']}
    """
    body = _TEXT.sub("''", query)
    aliases = {alias: table for table, alias in _TABLE_ALIAS.findall(body)
               if not table.upper().startswith("TAP_UPLOAD.")}
    used = {table: [] for table in aliases.values()}
    for alias, column in _QUALIFIED.findall(body):
        if alias in aliases and column not in used[aliases[alias]]:
            used[aliases[alias]].append(column)
    return used


class ServiceMetadata:
    """The PS1 DR2 schemas, tables and columns one TAP service publishes.

    Parameters
    ----------
    answer : `~astropy.table.Table`
        The service's answer to `~astroquery_ps1tap.sources.tap.adql.metadata_query`
        (``schema_name``, ``table_name``, ``table_description``, ``column_name``, ``datatype``,
        ``unit``, ``description``; any letter case).
    url : str
        The service, for messages.

    Examples
    --------
    >>> from astropy.table import Table
    >>> answer = Table(rows=[("ps1_dr2", "ps1_dr2.mean_object", "", "objid", "long", "", ""),
    ...                      ("ps1_dr2", "ps1_dr2.mean_object", "", "ramean", "double", "deg", "")],
    ...                names=["schema_name", "table_name", "table_description", "column_name",
    ...                       "datatype", "unit", "description"])
    >>> meta = ServiceMetadata(answer, "https://example.org/tap")
    >>> meta.schemas, meta.choose()
    (['ps1_dr2'], 'ps1_dr2')
    >>> meta.require({"ps1_dr2.mean_object": ["objID", "decMean"]})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    astroquery.exceptions.InvalidQueryError: the TAP service at https://example.org/tap does not ...
    >>> try:
    ...     meta.require({"ps1_dr2.mean_object": ["objID", "decMean"]})
    ... except Exception as error:
    ...     print(error)  # doctest: +NORMALIZE_WHITESPACE
    the TAP service at https://example.org/tap does not publish column decMean of table
    ps1_dr2.mean_object (it has 2 columns: objID, raMean); list_columns('ps1_dr2.mean_object')
    lists them
    """

    def __init__(self, answer, url):
        self.url = url
        names = {n.lower(): n for n in answer.colnames}
        column = {key: _text(answer[names[key]]) for key in
                  ("schema_name", "table_name", "table_description", "column_name", "datatype",
                   "unit", "description")}
        #: ``{qualified table name, lower case: {"name", "description", "columns"}}``; columns:
        #: ``{lower-case name: (name, datatype, unit, description)}`` as the service spells them.
        self.tables = {}
        for i, table in enumerate(column["table_name"]):
            qualified = table if "." in table else f"{column['schema_name'][i]}.{table}"
            entry = self.tables.setdefault(qualified.lower(), {
                "name": table, "description": column["table_description"][i], "columns": {}})
            name = column["column_name"][i].strip('"')  # DaCHS quotes reserved words ("value")
            entry["columns"][name.lower()] = (name, column["datatype"][i], column["unit"][i],
                                              column["description"][i])
        #: The PS1 schemas the service has, in `astroquery_ps1tap.schema.SCHEMAS` order.
        self.schemas = [s for s in ps1.SCHEMAS if any(t.split(".", 1)[0] == s for t in self.tables)]

    def choose(self, requested=None):
        """The schema to use: ``requested`` if the service has it, else the one it has
        (``dbo`` where it has both).

        Raises
        ------
        astroquery.exceptions.InvalidQueryError
            If the service lacks the requested schema, or has neither.
        """
        if not self.schemas:
            raise InvalidQueryError(
                f"the TAP service at {self.url} publishes neither PS1 DR2 schema "
                f"({' nor '.join(ps1.SCHEMAS)}) in its TAP_SCHEMA; is it a PS1 DR2 service? MAST's are "
                + ", ".join(url for url in ps1.MAST_SERVICES.values()))
        if requested is None:
            return ps1.DEFAULT_SCHEMA if ps1.DEFAULT_SCHEMA in self.schemas else self.schemas[0]
        requested = ps1.parse_schema(requested)
        if requested not in self.schemas:
            raise InvalidQueryError(
                f"the TAP service at {self.url} does not publish schema {requested!r} (it has "
                f"{', '.join(map(repr, self.schemas))}); choose that with schema=...")
        return requested

    def table(self, name):
        """The service's entry for a qualified table name (any case), or an `InvalidQueryError`
        naming the table and the service."""
        try:
            return self.tables[name.lower()]
        except KeyError:
            schema = name.split(".", 1)[0].lower()
            served = sorted(e["name"] for t, e in self.tables.items() if t.split(".", 1)[0] == schema)
            raise InvalidQueryError(
                f"the TAP service at {self.url} does not publish table {name}"
                + (f" (its {schema} tables: {', '.join(served)})" if served else "")) from None

    def require(self, needed):
        """Refuse, before anything is sent, tables or columns the service does not publish.

        Parameters
        ----------
        needed : dict
            ``{qualified table: [column, ...]}``, e.g. from `references`.

        Raises
        ------
        astroquery.exceptions.InvalidQueryError
            Naming the first missing column (or table), its table and the service.
        """
        for table, columns in needed.items():
            entry = self.table(table)
            for name in columns:
                if name.lower() not in entry["columns"]:
                    have = sorted((_canonical(table, c[0]) for c in entry["columns"].values()),
                                  key=str.lower)
                    shown = ", ".join(have[:12]) + (", ..." if len(have) > 12 else "")
                    raise InvalidQueryError(
                        f"the TAP service at {self.url} does not publish column {name} of table "
                        f"{table} (it has {len(have)} columns: {shown}); "
                        f"list_columns({table!r}) lists them")


def _canonical(table, column):
    """A served column's name in the PS1 schema's spelling where the schema knows it."""
    try:
        known = ps1.find_column(table, column)
    except InvalidQueryError:  # a table the PS1 schema does not know
        return column
    return known.name if known else column
