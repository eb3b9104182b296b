"""What the user asked for, as positions and objIDs: the first step of every query.

Every public method of both sources (TAP and HATS) reads its targets here, before any network
call: positions become finite ICRS degrees in range, radii become positive angles, objIDs become
exact non-negative int64 (never through floating point), filter names become filterIDs, and
names are resolved once (Sesame).  Anything else raises
`~astroquery.exceptions.InvalidQueryError` (or `ValueError`) naming the offending value and what
to give instead.
"""
import math
import numbers
import re

import numpy as np
from astroquery.exceptions import InvalidQueryError

from . import schema

__all__ = ["parse_position", "parse_radius", "parse_objids", "parse_bands", "parse_columns", "resolve_name",
           "check_lightcurve_options", "positive_number", "FLUX_KINDS",
           "looks_like_coordinates", "many_targets", "number", "parse_min_detections", "MAX_RADIUS_DEG"]

#: Largest cone radius accepted, in degrees (MAST rejects or times out on wider cones; tile instead).
MAX_RADIUS_DEG = 0.5

#: Largest objID PS1 can have (int64).
_MAX_OBJID = 2**63 - 1


def number(value, what):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise InvalidQueryError(f"{what} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise InvalidQueryError(f"{what} must be finite, got {value!r}")
    return value


def parse_position(coordinates):
    """Return ``(ra, dec)`` in degrees (ICRS) from any accepted form of a position.

    Parameters
    ----------
    coordinates : `~astropy.coordinates.SkyCoord`, str, or (ra, dec)
        A SkyCoord in any frame (transformed to ICRS); a string astropy can parse
        (``"139.3345 68.6351"``, ``"09h17m20.27s +68d38m06.3s"``; bare numbers are degrees); or a
        pair of numbers or Quantities (degrees).  Names are not resolved here: use ``query_object``.

    Raises
    ------
    astroquery.exceptions.InvalidQueryError
        For anything else, or a position outside 0 <= ra < 360, -90 <= dec <= 90.

    Examples
    --------
    >>> parse_position((139.33446271609, 68.63508880829))
    (139.33446271609, 68.63508880829)
    >>> ra, dec = parse_position("09h17m20.27s +68d38m06.3s")
    >>> round(ra, 4), round(dec, 4)
    (139.3345, 68.6351)
    """
    from astropy.coordinates import SkyCoord

    if isinstance(coordinates, SkyCoord):
        if not coordinates.isscalar:
            raise InvalidQueryError(f"one position is needed here, got {len(coordinates)}")
        icrs = coordinates.icrs
        ra, dec = float(icrs.ra.deg), float(icrs.dec.deg)
    elif isinstance(coordinates, str):
        coord = _read_position_text(coordinates)
        ra, dec = float(coord.icrs.ra.deg), float(coord.icrs.dec.deg)
    elif isinstance(coordinates, (tuple, list)) and len(coordinates) == 2:
        ra, dec = (_angle_deg(v, "ra" if i == 0 else "dec") for i, v in enumerate(coordinates))
    else:
        raise InvalidQueryError(
            f"could not read coordinates {coordinates!r}; give a SkyCoord, a string, or (ra, dec) "
            "in degrees")
    if not (0 <= ra < 360) and -360 < ra < 720:
        ra %= 360.0
    if not (0 <= ra < 360):
        raise InvalidQueryError(f"ra must be within [0, 360) degrees, got {ra!r}")
    if not (-90 <= dec <= 90):
        raise InvalidQueryError(f"dec must be within [-90, 90] degrees, got {dec!r}")
    return ra, dec


#: A bare decimal number (no unit, no sexagesimal fields).
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
#: A unit written into an angle: 12h30m, 187d42m, 187°42′ (then astropy needs no unit from us).
_UNIT_MARK = re.compile(r"[hd\u00b0]", re.IGNORECASE)
#: What a position written only in numbers looks like (decimal or sexagesimal, J-name).
_NUMERIC_POSITION = re.compile(r"J?[\d\s+\-.:,]+", re.IGNORECASE)


def _split_ra_dec(text):
    """The RA and Dec parts of a position string, split as astropy's SkyCoord splits them (six
    fields: three and three; otherwise at the sign of the declination; a J-name at its sign)."""
    tokens = text.split()
    if len(tokens) == 6:
        return " ".join(tokens[:3]), " ".join(tokens[3:])
    if len(tokens) == 2:
        return tokens[0], tokens[1]
    ra, sign, dec = re.split(r"([+-])", text, maxsplit=1) if re.search(r"[+-]", text) else (text, "", "")
    return ra.strip(), (sign + dec).strip()


def _read_position_text(coordinates):
    """A SkyCoord from text, read as astropy reads it, with the catalogue convention for text
    without units: sexagesimal RA is in hours (as SIMBAD and catalogues print it), decimal RA in
    degrees.  Text that still has two readings is refused with both."""
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    text = coordinates.replace(",", " ").strip()

    def refuse(why):
        return InvalidQueryError(
            f"could not read coordinates {coordinates!r}: {why}. Give a SkyCoord, 'ra dec' in "
            "decimal degrees ('187.70592 12.39112'), sexagesimal with RA in hours "
            "('12 30 49.42 +12 23 28.0', '12:30:49.42 +12:23:28.0') or with units "
            "('12h30m49.42s +12d23m28s'), or use query_object() for a name")

    def read(unit):
        try:
            return SkyCoord(text, unit=unit) if unit else SkyCoord(text)
        except (ValueError, u.UnitsError, TypeError) as exc:
            return exc

    alone = read(None)  # units written in the text: astropy needs nothing from us
    if isinstance(alone, SkyCoord):
        return alone
    ra_text, dec_text = _split_ra_dec(text)
    if not ra_text or not dec_text:
        if not _NUMERIC_POSITION.fullmatch(text):
            raise refuse(str(alone))
        raise refuse("cannot tell where the RA ends and the Dec begins; put a sign before the Dec "
                     "('12 30 49 +12 23 28') or separate them with a comma")
    if _UNIT_MARK.search(ra_text):  # e.g. "12h30m49.42s 12.39": the unit of RA is written
        coord = read((u.hourangle, u.deg))
    elif _DECIMAL.fullmatch(ra_text) and _DECIMAL.fullmatch(dec_text):
        coord = read(u.deg)  # two decimal numbers: degrees
    elif _DECIMAL.fullmatch(ra_text):
        hours, degrees = read((u.hourangle, u.deg)), read(u.deg)
        if isinstance(hours, SkyCoord) and isinstance(degrees, SkyCoord):
            raise refuse(
                f"a decimal RA ({ra_text}) with a sexagesimal Dec has two readings: RA in hours "
                f"gives ra={hours.ra.deg:.6f} deg, dec={hours.dec.deg:.6f} deg; RA in degrees gives "
                f"ra={degrees.ra.deg:.6f} deg, dec={degrees.dec.deg:.6f} deg. Write the unit "
                f"({ra_text}h or {ra_text}d)")
        coord = hours if isinstance(hours, SkyCoord) else degrees
    else:  # sexagesimal RA without units: hours
        coord = read((u.hourangle, u.deg))
        if not isinstance(coord, SkyCoord):
            degrees = read(u.deg)
            if isinstance(degrees, SkyCoord):
                raise refuse(
                    f"RA {ra_text!r} is not an hour angle (0 to 24 h), which sexagesimal RA without "
                    f"units is taken to be; if degrees were meant (ra={degrees.ra.deg:.6f}, "
                    f"dec={degrees.dec.deg:.6f}), write the units: "
                    f"'{''.join(f + m for f, m in zip(ra_text.replace(':', ' ').split(), 'dms'))}' "
                    "or decimal degrees")
    if not isinstance(coord, SkyCoord):
        raise refuse(str(coord))
    return coord


def _angle_deg(value, what):
    from astropy import units as u

    if isinstance(value, u.Quantity):
        try:
            value = value.to_value(u.deg)
        except u.UnitsError:
            raise InvalidQueryError(f"{what} must be an angle, got {value!r}") from None
        if np.ndim(value):
            raise InvalidQueryError(f"{what} must be a single value, got {value!r}")
    return number(value, what)


def parse_radius(radius, *, maximum=MAX_RADIUS_DEG):
    """Return a cone radius in degrees.

    Parameters
    ----------
    radius : `~astropy.units.Quantity`, `~astropy.coordinates.Angle`, str or float
        ``2 * u.arcsec``, ``Angle("0.2d")``, ``"1 arcsec"``, or a number of degrees.
    maximum : float
        The largest radius allowed, in degrees.

    Raises
    ------
    astroquery.exceptions.InvalidQueryError
        If the radius is not an angle, not positive, or larger than ``maximum``.

    Examples
    --------
    >>> parse_radius("1 arcsec") * 3600
    1.0
    >>> parse_radius(0.2)
    0.2
    """
    from astropy import units as u

    if isinstance(radius, str):
        try:
            radius = u.Quantity(radius)
        except (ValueError, TypeError):
            raise InvalidQueryError(f"could not read radius {radius!r}; give e.g. '2 arcsec', "
                                    "2 * u.arcsec or a number of degrees") from None
        if radius.unit == u.dimensionless_unscaled:
            radius = radius.value * u.deg
    deg = _angle_deg(radius, "radius")
    if deg <= 0:
        raise InvalidQueryError(f"radius must be positive, got {radius!r}")
    if deg > maximum:
        raise InvalidQueryError(
            f"radius {radius!r} is larger than the {maximum:g} deg this query allows; split the "
            "region into smaller cones")
    return deg


def parse_objids(objids):
    """Return PS1 objIDs as a 1-d int64 array, validated, duplicates removed, order kept.

    Parameters
    ----------
    objids : int, str, or sequence of them (list, array, Table column)
        Integers or decimal text.  Floats are refused: 18-digit objIDs do not survive them.

    Raises
    ------
    ValueError
        For an empty list, a masked/missing value, a float, a negative number, or text that is not
        a whole number; the message names the first offending value.

    Examples
    --------
    >>> parse_objids([190361393344112894, "153102917444859851", 190361393344112894])
    array([190361393344112894, 153102917444859851])
    """
    if isinstance(objids, (str, bytes, numbers.Integral)) or np.ndim(objids) == 0:
        objids = [objids]
    values = list(np.ma.getdata(objids).tolist()) if not isinstance(objids, list) else objids
    mask = np.ma.getmaskarray(objids) if np.ma.isMaskedArray(objids) or hasattr(objids, "mask") \
        else np.zeros(len(values), bool)
    if len(values) == 0:
        raise ValueError("no objIDs given")
    out = np.empty(len(values), dtype=np.int64)
    for i, value in enumerate(values):
        if mask[i]:
            raise ValueError(f"objID at position {i} is missing (masked)")
        if isinstance(value, bytes):
            value = value.decode()
        if isinstance(value, str):
            text = value.strip()
            if not (text.isascii() and text.isdigit()):  # "１２" and "²" are digits to str.isdigit
                raise ValueError(f"objID {value!r} is not a whole non-negative number")
            value = int(text)
        elif isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
            raise ValueError(f"objID {value!r} is not an integer; pass objIDs as integers or text "
                             "(floating point loses digits of 18-digit objIDs)")
        value = int(value)
        if value < 0 or value > _MAX_OBJID:
            raise ValueError(f"objID {value!r} is out of range (0 .. 2**63-1)")
        out[i] = value
    _, first = np.unique(out, return_index=True)
    return out[np.sort(first)]


def parse_bands(bands):
    """Return sorted PS1 filterIDs (1..5) for ``bands`` (``"gri"``, ``["g", "r"]``, or None = all).

    Examples
    --------
    >>> parse_bands("zg")
    [1, 4]
    """
    if bands is None:
        return list(schema.FILTER_IDS)
    if isinstance(bands, str):
        items = list(bands.replace(",", "").replace(" ", ""))
    elif isinstance(bands, (list, tuple, set, frozenset, np.ndarray)):
        items = list(bands)
    else:
        raise InvalidQueryError(f"bands must be filter names such as 'gri' or ['g', 'r'], got "
                                f"{bands!r}; choose from {', '.join(schema.FILTERS)}")
    ids = set()
    for band in items:
        band_name = band.strip().lower() if isinstance(band, str) else band
        if band_name not in schema.FILTERS:
            raise InvalidQueryError(f"unknown PS1 filter {band!r}; choose from "
                                    f"{', '.join(schema.FILTERS)}")
        ids.add(schema.FILTERS.index(band_name) + 1)
    if not ids:
        raise InvalidQueryError("no filters given")
    return sorted(ids)


def resolve_name(object_name):
    """Resolve a target name to ICRS coordinates with astropy's Sesame resolver.

    Raises
    ------
    astroquery.exceptions.InvalidQueryError
        If the name is not a non-empty string or cannot be resolved (or the resolver is
        unreachable); the message says so and suggests passing coordinates.
    """
    from astropy.coordinates import SkyCoord
    from astropy.coordinates.name_resolve import NameResolveError

    if not isinstance(object_name, str) or not object_name.strip():
        raise InvalidQueryError(f"object_name must be a non-empty string, got {object_name!r}")
    try:
        return SkyCoord.from_name(object_name.strip())
    except NameResolveError as exc:
        raise InvalidQueryError(f"could not resolve the name {object_name!r}: {exc}. Check the "
                                "name, or give coordinates instead.") from None


def looks_like_coordinates(text):
    """Whether ``text`` is meant as a position (else it is taken for a name to resolve).

    Text made only of numbers, signs, colons (and a leading ``J``) is a position even when it
    cannot be read (digits alone are an objID), so that `parse_position` says why instead of a
    name resolver being asked.
    """
    if is_objid(text):
        return False
    if _NUMERIC_POSITION.fullmatch(text.strip()):
        return True
    try:
        parse_position(text)
        return True
    except InvalidQueryError:
        return False


def is_objid(target):
    """Whether one target is a PS1 objID (an integer, or text of digits only)."""
    return (isinstance(target, (int, np.integer)) and not isinstance(target, (bool, np.bool_))) or (
        isinstance(target, str) and target.strip().isascii() and target.strip().isdigit())


def many_targets(target):
    """The targets as objIDs or a SkyCoord array if ``target`` names many, else None.

    Examples
    --------
    >>> many_targets("KQ UMa") is None, many_targets(190361393344112894) is None
    (True, True)
    >>> many_targets([190361393344112894, 153102917444859851])
    [190361393344112894, 153102917444859851]
    """
    from astropy.coordinates import SkyCoord

    if isinstance(target, SkyCoord):
        return None if target.isscalar else target
    if isinstance(target, (str, bytes, tuple)) or np.ndim(target) == 0:
        return None
    return target


def parse_columns(columns, what="columns"):
    """Column names as a list: None stays None; one name (or ``"a,b"``) given as text is read as
    names, never as its letters.

    Examples
    --------
    >>> parse_columns("objID"), parse_columns("objID, nDetections"), parse_columns(None)
    (['objID'], ['objID', 'nDetections'], None)
    """
    if columns is None:
        return None
    if isinstance(columns, str):
        columns = columns.split(",")
    elif not isinstance(columns, (list, tuple, np.ndarray)):
        raise InvalidQueryError(f"{what} must be a list of column names, got {columns!r}")
    names = []
    for name in columns:
        if not isinstance(name, str) or not name.strip():
            raise InvalidQueryError(f"{what} must be column names (text), got {name!r} in {columns!r}")
        names.append(name.strip())
    if not names:
        raise InvalidQueryError(f"no {what} given")
    return names


#: Which fluxes a light curve can be built from (``psfFlux``, ``apFlux``, ``kronFlux``).
FLUX_KINDS = tuple(name[:-len("Flux")] for name in schema.DETECTION_SELECT if name.endswith("Flux"))


def check_lightcurve_options(flux, quality_bitmask):
    """Refuse a light-curve ``flux`` or ``quality_bitmask`` that cannot work, before any request.

    Raises
    ------
    ValueError
        Naming the option and the value.

    Examples
    --------
    >>> check_lightcurve_options("psf", "default")
    >>> check_lightcurve_options("aperture", "default")
    Traceback (most recent call last):
    ...
    ValueError: flux must be one of 'psf', 'ap', 'kron', not 'aperture'
    """
    if not isinstance(flux, str) or flux.lower() not in FLUX_KINDS:
        raise ValueError(f"flux must be one of {', '.join(map(repr, FLUX_KINDS))}, not {flux!r}")
    from .lightcurves import PS1QualityFlags  # the one reader of quality masks

    PS1QualityFlags.bitmask(quality_bitmask)


def positive_number(value, what):
    """``value`` as a float if it is a finite positive number, else a `ValueError` naming ``what``.

    Examples
    --------
    >>> positive_number(0.48636, "period")
    0.48636
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) \
            or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{what} must be a finite positive number, got {value!r}")
    return float(value)


def parse_min_detections(table, min_detections):
    """The ``nDetections`` cut as an int (None for no cut), checked against ``table``'s columns.

    The tutorial's ``nDetections > 1`` is ``min_detections=2``.

    Examples
    --------
    >>> parse_min_detections("mean", 2), parse_min_detections("detection", None)
    (2, None)
    """
    if min_detections is None:
        return None
    if schema.find_column(table, "nDetections") is None:
        raise InvalidQueryError(f"{schema.resolve_table(table)} has no nDetections column; "
                                "use min_detections=None")
    if isinstance(min_detections, (bool, np.bool_)) or not isinstance(min_detections, numbers.Integral):
        raise InvalidQueryError(f"min_detections must be an integer or None, got {min_detections!r}")
    return int(min_detections)
