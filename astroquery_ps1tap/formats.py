"""Which table format a file name means: the one suffix table of the package.

Used to read PS1 files (`astroquery_ps1tap.lightcurves.read_ps1_table`) and to write them (the
``ps1tap`` command's ``--output``, `astroquery_ps1tap.lightcurves.write_ps1_lightcurves`).  Light
to import: no lightkurve, no matplotlib.
"""
from pathlib import Path

__all__ = ["SUFFIX_FORMATS", "COMPRESSION_SUFFIXES", "table_format"]

#: astropy unified I/O format of each file name suffix (lower case).
SUFFIX_FORMATS = {".ecsv": "ascii.ecsv", ".csv": "ascii.csv", ".txt": "ascii.csv",
                  ".dat": "ascii.csv", ".fits": "fits", ".fit": "fits", ".fts": "fits",
                  ".vot": "votable", ".xml": "votable", ".votable": "votable",
                  ".parquet": "parquet"}
#: Suffixes of compressed files, which astropy reads (not writes) transparently.
COMPRESSION_SUFFIXES = (".gz", ".bz2", ".xz")


def table_format(path, *, compressed=False):
    """Return the astropy table format of ``path`` from its suffix.

    Parameters
    ----------
    path : str or path-like
        A file name.
    compressed : bool
        Allow a compression suffix after the format's (``kq_uma.csv.gz``): for reading.

    Raises
    ------
    ValueError
        If the suffix is not one of `SUFFIX_FORMATS` (the message lists them).

    Examples
    --------
    >>> table_format("kq_uma.ecsv"), table_format("KQ_UMA.FITS")
    ('ascii.ecsv', 'fits')
    >>> table_format("kq_uma.csv.gz", compressed=True)
    'ascii.csv'
    """
    suffixes = [s.lower() for s in Path(path).suffixes]
    if compressed and suffixes and suffixes[-1] in COMPRESSION_SUFFIXES:
        suffixes = suffixes[:-1]
    if suffixes and suffixes[-1] in SUFFIX_FORMATS:
        return SUFFIX_FORMATS[suffixes[-1]]
    raise ValueError(f"cannot tell the format of {str(path)!r} from its name; use one of "
                     f"{', '.join(SUFFIX_FORMATS)}"
                     + (f" (optionally {', '.join(COMPRESSION_SUFFIXES)})" if compressed else ""))
