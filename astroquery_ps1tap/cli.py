"""The ``ps1tap`` command: PS1 DR2 light curves, cones, detections and ADQL from the shell.

Data go to standard output (CSV) or to a file (``--output``; the format follows the extension:
``.ecsv``, ``.csv``, ``.fits``, ``.vot``/``.xml``); progress and status go to standard error.
Exit status: 0 success, 1 the service failed or could not be reached, 2 bad input (including an
unknown target), 3 nothing found, 4 a local file could not be read or written (including a closed
standard output), 130 interrupted.  Every option is checked before the first request.

Examples
--------
::

    ps1tap lightcurve "KQ UMa" --period 0.48636 --plot kq_uma.png
    ps1tap lightcurve 190361393344112894 --output kq_uma.ecsv
    ps1tap region "187.706 12.391" 0.2deg --output m87.csv
    ps1tap detections 153102917444859851 --min-qf 0.9
    ps1tap query "SELECT TOP 5 f.filterID, f.filterType FROM dbo.Filter AS f"
    PS1TAP_SERVER=http://localhost:8080/tap ps1tap lightcurve "139.33446 68.63509"
"""
import argparse
import os
import sys
import warnings

__all__ = ["main"]

EXIT_OK, EXIT_SERVICE, EXIT_INPUT, EXIT_EMPTY, EXIT_FILE, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130
_FORMATS = {".ecsv": "ascii.ecsv", ".csv": "ascii.csv", ".fits": "fits", ".fit": "fits",
            ".vot": "votable", ".xml": "votable"}


class _Empty(Exception):
    """Nothing matched."""


class _LocalFile(Exception):
    """A local file (input, output, standard output) could not be read or written."""


def _positive(text):
    """argparse type: a finite positive number."""
    from .targets import positive_number

    try:
        return positive_number(float(text), "the value")
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a finite positive number, got {text!r}") from None


def _finite(text):
    """argparse type: a finite number."""
    import math

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def _count(text, minimum=1):
    """argparse type: a whole number >= ``minimum``."""
    try:
        value = int(text)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be a whole number >= {minimum}, got {text!r}")
    return value


def _parser():
    parser = argparse.ArgumentParser(
        prog="ps1tap", description="Pan-STARRS1 DR2 through MAST's TAP service.",
        epilog="The server is --server, else $PS1TAP_SERVER, else MAST.")
    parser.add_argument("--server", help="TAP base URL, or a MAST service: ps1dr2 (legacy) or "
                        "mast_catalogs (newer) (default: $PS1TAP_SERVER or MAST's ps1dr2)")
    parser.add_argument("--schema", choices=("dbo", "ps1_dr2"),
                        help="PS1 schema to query (default: the one the service has; dbo if both)")
    parser.add_argument("--timeout", type=_positive, help="seconds per HTTP request")
    parser.add_argument("--no-cache", action="store_true", help="do not use the on-disk cache")
    parser.add_argument("-q", "--quiet", action="store_true", help="no status messages")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    lc = commands.add_parser("lightcurve", help="light curves of one target, plotted or saved")
    lc.add_argument("target", help="a name, 'ra dec' (degrees or sexagesimal), or a PS1 objID")
    lc.add_argument("--radius", default="1 arcsec", help="search radius around a position")
    _measurement_options(lc)
    lc.add_argument("--flux", choices=("psf", "ap", "kron"), default="psf")
    lc.add_argument("--quality", default="default",
                    help="quality bitmask: default (the tutorial's psfQfPerfect >= 0.9 cut), hard, "
                         "none, or an integer")
    lc.add_argument("--period", type=_positive, help="fold with this period (days)")
    lc.add_argument("--epoch", type=_finite, help="epoch of phase zero (MJD, TAI)")
    lc.add_argument("--cycles", type=int, choices=(1, 2), default=2, help="cycles shown when folded")
    lc.add_argument("--combine", action="store_true",
                    help="fold all filters together as differences from their means (eclipsing "
                         "binaries)")
    lc.add_argument("--find-period", action="store_true",
                    help="multi-band Lomb-Scargle period search (used to fold without --period)")
    lc.add_argument("--eclipsing", action="store_true",
                    help="with --find-period: search for eclipses and report the orbital period "
                         "(Lomb-Scargle alone tends to find half of it)")
    lc.add_argument("--plot", metavar="FILE.png", help="save a plot")
    lc.add_argument("--output", metavar="FILE", help="save the measurements (.ecsv .csv .fits .vot)")

    region = commands.add_parser("region", help="objects in a cone (dbo.MeanObjectView by default)")
    region.add_argument("coordinates", help="'ra dec' in degrees or sexagesimal")
    region.add_argument("radius", help="e.g. '2 arcsec', 0.2deg, or degrees")
    region.add_argument("--table", default="mean", help="mean, stack, forced_mean, or a table name")
    region.add_argument("--columns", help="comma-separated column names")
    region.add_argument("--min-detections", type=lambda text: _count(text, 0), default=2,
                        help="nDetections at least this (default 2; 0 for no cut)")
    region.add_argument("--output", metavar="FILE")

    detections = commands.add_parser("detections", help="measurements of objects by objID")
    detections.add_argument("objid", nargs="*", help="PS1 objIDs")
    detections.add_argument("--from-file", metavar="FILE", help="objIDs, one per line")
    _measurement_options(detections)
    detections.add_argument("--output", metavar="FILE")

    query = commands.add_parser("query", help="run ADQL as written")
    query.add_argument("adql", help="the query ('-' reads it from standard input)")
    query.add_argument("--async", dest="async_job", action="store_true", help="run as an async job")
    query.add_argument("--maxrec", type=_count, help="row limit")
    query.add_argument("--output", metavar="FILE")

    from .bulk import add_bulk_parser

    add_bulk_parser(commands)
    return parser


def _measurement_options(parser):
    parser.add_argument("--photometry", choices=("detection", "forced"), default="detection")
    parser.add_argument("--bands", help="filters, e.g. gri (default all)")
    parser.add_argument("--min-qf", type=_finite, help="server-side cut psfQfPerfect >= MIN_QF")


def main(argv=None):
    """Run the ``ps1tap`` command and return its exit status.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after ``ps1tap`` (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 success, 1 the service failed or could not be reached, 2 bad input, 3 nothing found,
        4 a local file could not be read or written, 130 interrupted.
    """
    args = _parser().parse_args(argv)
    from astroquery.exceptions import InvalidQueryError, RemoteServiceError, TimeoutError

    def status(message):
        if not args.quiet:
            print(f"ps1tap: {message}", file=sys.stderr)

    client = None
    with warnings.catch_warnings():
        # warnings (a truncated result, objIDs with no data) become status lines, never tracebacks
        warnings.showwarning = lambda message, category, *rest: status(f"warning: {message}")
        try:
            from . import PanstarrsTapClass

            _check_options(args)  # every option, before any request
            client = PanstarrsTapClass(server=args.server, schema=args.schema, timeout=args.timeout)
            status(f"server {client.server}")
            return _COMMANDS[args.command](client, args, status)
        except _Empty as exc:
            status(str(exc))
            return EXIT_EMPTY
        except _LocalFile as exc:
            print(f"ps1tap: error: {exc}", file=sys.stderr)
            return EXIT_FILE
        except (InvalidQueryError, ValueError) as exc:
            from .client import NoMeasurementsError

            if isinstance(exc, NoMeasurementsError):
                status(str(exc))
                return EXIT_EMPTY
            print(f"ps1tap: error: {exc}", file=sys.stderr)
            return EXIT_INPUT
        except (RemoteServiceError, TimeoutError) as exc:
            where = client.server if client is not None else "the TAP service"
            print(f"ps1tap: error: the service at {where} failed: {exc}", file=sys.stderr)
            return EXIT_SERVICE
        except OSError as exc:  # the query path turns network failures into the errors above
            print(f"ps1tap: error: a local file could not be read or written: {exc}", file=sys.stderr)
            return EXIT_FILE
        except KeyboardInterrupt:
            print("ps1tap: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED


def _check_options(args):
    """Refuse options that cannot work before anything is sent: output and plot files (format,
    directory), light-curve options, bands, radius, target, and the objID file."""
    from . import targets

    output = getattr(args, "output", None)
    _output_format(output)
    for path in (output, getattr(args, "plot", None)):
        if path is not None:
            folder = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(folder):
                raise _LocalFile(f"cannot write {path}: the folder {folder} does not exist")
    if getattr(args, "plot", None):
        _plot_format(args.plot)
    if args.command == "lightcurve":
        targets.check_lightcurve_options(args.flux, _quality(args.quality))
        targets.parse_radius(args.radius)
        if targets.looks_like_coordinates(args.target):
            targets.parse_position(args.target)
    if getattr(args, "bands", None) is not None:
        targets.parse_bands(args.bands)
    if args.command == "region":
        targets.parse_position(args.coordinates)
        targets.parse_radius(args.radius)
    if args.command == "detections":
        args.objid = list(args.objid) + _read_ids(args.from_file)
        if not args.objid:
            raise ValueError("give objIDs as arguments or with --from-file")
        targets.parse_objids(args.objid)


def _read_ids(path):
    if path is None:
        return []
    try:
        with open(path) as handle:
            return [line.split("#")[0].strip() for line in handle if line.split("#")[0].strip()]
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise _LocalFile(f"cannot read the objID file {path}: {reason}") from None


def _quality(text):
    return int(text) if text.lstrip("-").isdigit() else text


def _plot_format(filename):
    """Refuse a plot file type matplotlib cannot write (before any request)."""
    from matplotlib.backend_bases import FigureCanvasBase

    extension = os.path.splitext(filename)[1].lower().lstrip(".")
    supported = FigureCanvasBase.get_supported_filetypes()
    if extension not in supported:
        raise ValueError(f"cannot plot to {filename!r}: use one of "
                         f"{', '.join('.' + e for e in sorted(supported))}")


def _write(table, output, status):
    if len(table) == 0:
        raise _Empty("nothing found")
    if output is None:
        if sys.stdout is None:
            raise _LocalFile("standard output is closed; use --output FILE")
        try:
            table.write(sys.stdout, format="ascii.csv")
            sys.stdout.flush()
        except BrokenPipeError:
            # the reader went away (e.g. "| head"): say so, and keep Python quiet at exit
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise _LocalFile("standard output was closed before all rows were written "
                             "(broken pipe)") from None
        except (OSError, ValueError) as exc:  # ValueError: "I/O operation on closed file"
            raise _LocalFile(f"cannot write to standard output: {exc}") from None
        return EXIT_OK
    try:
        table.write(output, format=_output_format(output), overwrite=True)
    except OSError as exc:
        raise _LocalFile(f"cannot write {output}: {exc.strerror or exc}") from None
    status(f"wrote {len(table)} rows to {output}")
    return EXIT_OK


def _output_format(output):
    if output is None:
        return None
    extension = os.path.splitext(output)[1].lower()
    if extension not in _FORMATS:
        raise ValueError(f"cannot tell the format of {output!r} from its extension; use one of "
                         f"{', '.join(_FORMATS)}")
    return _FORMATS[extension]


def _lightcurve(client, args, status):
    from .lightcurves import to_lightcurves

    quality = _quality(args.quality)
    status(f"fetching the light curves of {args.target}")
    table = client._target_measurements(args.target, args.radius, dict(
        photometry=args.photometry, bands=args.bands, min_qf=args.min_qf, progress=False,
        on_error="raise", cache=not args.no_cache))
    lcs = to_lightcurves(table, flux=args.flux, quality_bitmask=quality)
    for lc in lcs:
        status(f"  {lc.meta['FILTER']}: {len(lc)} points")
    period, epoch = args.period, args.epoch
    if args.find_period:
        from .periods import find_period

        found = find_period(lcs, eclipsing=True if args.eclipsing else "auto")
        status(f"period search: best period {found.period:.6g} d (power {found.power:.3g}, "
               f"false-alarm probability {found.false_alarm:.2g})")
        period = period or found.period
    if args.plot:
        try:
            _plot(lcs, args.plot, period, epoch, args.cycles, args.combine, args.target)
        except OSError as exc:
            raise _LocalFile(f"cannot write {args.plot}: {exc.strerror or exc}") from None
        status(f"plotted to {args.plot}")
    if args.output or not args.plot:
        return _write(table, args.output, status)
    return EXIT_OK


def _plot(lcs, filename, period, epoch, cycles, combine, title):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from . import plots

    if combine:
        if period is None:
            raise ValueError("--combine folds the combined light curve: give --period or --find-period")
        drawn = plots.plot_combined(lcs, period, epoch, cycles=cycles)
    elif period is not None:
        drawn = plots.plot_folded(lcs, period, epoch, cycles=cycles)
    else:
        drawn = plots.plot_lightcurves(lcs)
    figure = drawn if isinstance(drawn, Figure) else drawn.figure
    figure.suptitle(f"PS1 objID {title}" if str(title).isdigit() else str(title))
    figure.savefig(filename, dpi=100)


def _region(client, args, status):
    columns = [c.strip() for c in args.columns.split(",")] if args.columns else None
    table = client.query_region(args.coordinates, args.radius, table=args.table, columns=columns,
                                min_detections=args.min_detections or None, cache=not args.no_cache)
    status(f"{len(table)} objects")
    return _write(table, args.output, status)


def _detections(client, args, status):
    table = client.get_detections(args.objid, photometry=args.photometry, bands=args.bands,
                                  min_qf=args.min_qf, cache=not args.no_cache)
    status(f"{len(table)} measurements of {len(set(table['objID']))} objects")
    return _write(table, args.output, status)


def _query(client, args, status):
    try:
        adql = sys.stdin.read() if args.adql == "-" else args.adql
    except (OSError, AttributeError, ValueError) as exc:  # no or closed standard input
        raise _LocalFile(f"cannot read the query from standard input: {exc}") from None
    table = client.query_tap(adql, async_job=args.async_job, maxrec=args.maxrec,
                             cache=not args.no_cache)
    status(f"{len(table)} rows")
    return _write(table, args.output, status)


def _bulk(client, args, status):
    from .bulk import bulk_main

    return bulk_main(client, args, status)


_COMMANDS = {"lightcurve": _lightcurve, "region": _region, "detections": _detections, "query": _query,
             "bulk": _bulk}

if __name__ == "__main__":
    sys.exit(main())
