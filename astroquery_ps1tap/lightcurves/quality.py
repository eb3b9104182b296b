"""The ``quality`` bits of PS1 light curves, as a lightkurve `~lightkurve.utils.QualityFlags` class.

PS1 has no per-epoch quality word of its own: the bits are derived from ``psfQfPerfect``, the flux
and its error, and the ``infoFlag`` bits of `~astroquery_ps1tap.schema.INFO_FLAGS`.  The class
works as lightkurve's ``KeplerQualityFlags`` and ``TessQualityFlags`` do: ``decode`` gives the
descriptions of the bits set, ``create_quality_mask`` the points a bitmask keeps.
"""
import numpy as np
from lightkurve.utils import QualityFlags

from .. import schema

__all__ = ["PS1QualityFlags"]


class PS1QualityFlags(QualityFlags):
    """The bits of the ``quality`` column of PS1 light curves.

    ========  =====================  ==========================================================
    bit       name                   set when
    ========  =====================  ==========================================================
    1         ``LOW_QF``             ``psfQfPerfect < min_qf`` (0.9 by default, the tutorial's cut)
    2         ``NONPOSITIVE_FLUX``   flux <= 0: no magnitude
    4         ``MISSING_FLUX``       flux or its error is NULL, -999 or NaN in the database
    8         ``MISSING_QF``         ``psfQfPerfect`` is NULL for this point
    16        ``FAIL``               ``infoFlag`` FAIL (0x8): PSF fit failed
    32        ``POOR``               ``infoFlag`` POOR (0x10): poor PSF fit
    64        ``SATSTAR``            ``infoFlag`` SATSTAR (0x80): peak above saturation
    128       ``BADPSF``             ``infoFlag`` BADPSF (0x400): bad PSF model
    256       ``DEFECT``             ``infoFlag`` DEFECT (0x800): on a detector defect
    512       ``SATURATED``          ``infoFlag`` SATURATED (0x1000): saturated pixels
    1024      ``CR_LIMIT``           ``infoFlag`` CR_LIMIT (0x2000): may be a cosmic ray
    2048      ``SKY_FAILURE``        ``infoFlag`` SKY_FAILURE (0x10000): sky fit failed
    4096      ``LOW_SNR``            ``flux / flux_err < 5``
    ========  =====================  ==========================================================

    Named bitmasks (``quality_bitmask=`` of `~astroquery_ps1tap.lightcurves.to_lightcurves`,
    ``OPTIONS`` here as in lightkurve):

    * ``"none"`` (0): keep every point;
    * ``"default"`` (7): ``LOW_QF | NONPOSITIVE_FLUX | MISSING_FLUX``, the tutorial's cut
      (``psfQfPerfect >= 0.9``) plus points with no usable flux;
    * ``"hard"`` (4095): also every ``infoFlag`` bit above and ``MISSING_QF``;
    * ``"hardest"`` (8191): every bit, ``LOW_SNR`` too.

    ``decode`` and ``create_quality_mask`` are lightkurve's own (`~lightkurve.utils.QualityFlags`);
    `names` gives the short names that ``meta["MASKED_FLAGS"]`` of a light curve uses, and
    `bitmask` checks a ``quality_bitmask`` argument.

    Examples
    --------
    >>> PS1QualityFlags.decode(PS1QualityFlags.LOW_QF | PS1QualityFlags.SATSTAR)
    ['psfQfPerfect below min_qf', 'infoFlag SATSTAR: peak above saturation']
    >>> import numpy as np
    >>> PS1QualityFlags.create_quality_mask(np.array([0, 1, 64]), bitmask="default").tolist()
    [True, False, True]
    >>> PS1QualityFlags.bitmask("default"), PS1QualityFlags.names()[64]
    (7, 'SATSTAR')
    """
    LOW_QF = 1
    NONPOSITIVE_FLUX = 2
    MISSING_FLUX = 4
    MISSING_QF = 8
    FAIL = 16
    POOR = 32
    SATSTAR = 64
    BADPSF = 128
    DEFECT = 256
    SATURATED = 512
    CR_LIMIT = 1024
    SKY_FAILURE = 2048
    LOW_SNR = 4096

    #: ``infoFlag`` bit of each quality bit that copies one (the names are the same).
    INFO_FLAG_BITS = {name: schema.INFO_FLAGS[name] for name in
                      ("FAIL", "POOR", "SATSTAR", "BADPSF", "DEFECT", "SATURATED", "CR_LIMIT",
                       "SKY_FAILURE")}
    #: Signal-to-noise ratio below which ``LOW_SNR`` is set.
    MIN_SNR = 5.0

    STRINGS = {
        LOW_QF: "psfQfPerfect below min_qf",
        NONPOSITIVE_FLUX: "flux not positive (no magnitude)",
        MISSING_FLUX: "flux or flux error missing (NULL, -999 or NaN)",
        MISSING_QF: "psfQfPerfect missing",
        FAIL: "infoFlag FAIL: PSF fit failed",
        POOR: "infoFlag POOR: poor PSF fit",
        SATSTAR: "infoFlag SATSTAR: peak above saturation",
        BADPSF: "infoFlag BADPSF: bad PSF model",
        DEFECT: "infoFlag DEFECT: on a detector defect",
        SATURATED: "infoFlag SATURATED: saturated pixels",
        CR_LIMIT: "infoFlag CR_LIMIT: possible cosmic ray",
        SKY_FAILURE: "infoFlag SKY_FAILURE: sky fit failed",
        LOW_SNR: "flux / flux_err below 5",
    }
    #: The tutorial's cut plus points with no usable flux.
    DEFAULT_BITMASK = LOW_QF | NONPOSITIVE_FLUX | MISSING_FLUX
    #: Every bit but ``LOW_SNR``.
    HARD_BITMASK = 4095
    #: Every bit.
    HARDEST_BITMASK = 8191
    OPTIONS = {"none": 0, "default": DEFAULT_BITMASK, "hard": HARD_BITMASK,
               "hardest": HARDEST_BITMASK}

    @classmethod
    def names(cls):
        """Return ``{bit: name}`` for every bit, lowest first (``{1: 'LOW_QF', ...}``)."""
        found = {value: name for name, value in vars(PS1QualityFlags).items()
                 if name.isupper() and type(value) is int and value in cls.STRINGS}
        return dict(sorted(found.items()))

    @classmethod
    def bitmask(cls, quality_bitmask):
        """Return the integer bitmask of ``"none"``, ``"default"``, ``"hard"``, ``"hardest"``
        (any letter case) or a non-negative integer.

        Raises
        ------
        ValueError
            For any other value, naming the accepted ones.
        """
        if isinstance(quality_bitmask, str):
            try:
                return cls.OPTIONS[quality_bitmask.lower()]
            except KeyError:
                raise ValueError(f"quality_bitmask {quality_bitmask!r} is not one of "
                                 f"{', '.join(map(repr, cls.OPTIONS))} or an integer") from None
        if isinstance(quality_bitmask, (bool, np.bool_)) or not isinstance(
                quality_bitmask, (int, np.integer)) or quality_bitmask < 0:
            raise ValueError(f"quality_bitmask must be a name or a non-negative integer, "
                             f"not {quality_bitmask!r}")
        return int(quality_bitmask)
