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

import numpy as np
from astroquery.exceptions import InvalidQueryError

from . import schema

__all__ = ["parse_position", "parse_radius", "parse_objids", "parse_bands", "resolve_name",
           "looks_like_coordinates", "many_targets", "number", "MAX_RADIUS_DEG"]

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
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    if isinstance(coordinates, SkyCoord):
        if not coordinates.isscalar:
            raise InvalidQueryError(f"one position is needed here, got {len(coordinates)}")
        icrs = coordinates.icrs
        ra, dec = float(icrs.ra.deg), float(icrs.dec.deg)
    elif isinstance(coordinates, str):
        text = coordinates.strip()
        try:
            parts = text.replace(",", " ").split()
            if len(parts) == 2 and all(_is_float(p) for p in parts):
                coord = SkyCoord(float(parts[0]), float(parts[1]), unit="deg")
            else:
                coord = SkyCoord(text, unit=(u.hourangle, u.deg) if ("h" in text or ":" in text)
                                 else u.deg)
        except (ValueError, u.UnitsError, TypeError) as exc:
            raise InvalidQueryError(
                f"could not read coordinates {coordinates!r} ({exc}); give a SkyCoord, "
                "'ra dec' in degrees, sexagesimal text, or use query_object() for a name") from None
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


def _is_float(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


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
            if not text.isdigit():
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
    items = list(bands) if isinstance(bands, str) else bands
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
    """Whether ``text`` reads as a position (else it is taken for a name to resolve)."""
    try:
        parse_position(text)
        return True
    except InvalidQueryError:
        return False


def is_objid(target):
    """Whether one target is a PS1 objID (an integer, or text of digits only)."""
    return (isinstance(target, (int, np.integer)) and not isinstance(target, (bool, np.bool_))) or (
        isinstance(target, str) and target.strip().isdigit())


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
