"""The master scale (主标尺): ordered rating grades, each with a PD band and a representative PD.

A master scale maps every probability of default to one grade and every grade to one PD, so that
scorecards, migration matrices and capital all speak the same language. The default scale
(``defaults/master_scale.yaml``) has the data contract's codes: seven performing grades
AAA … CCC and the default grade D, the minimum Basel requires of an IRB rating system ("a
minimum of seven borrower grades for non-defaulted borrowers and one for those that have
defaulted", BCBS CRE36.70; the same minimum in 《商业银行资本管理办法》(2023)).

Conventions, checked when a scale is built:

- grades are ordered best first and the default grade comes last, with PD = 1;
- the performing bands :math:`[l_g, u_g)` are contiguous (:math:`u_g = l_{g+1}`), non-overlapping
  and increasing, from :math:`l_1 = 0` to :math:`u_G = 1`;
- a PD exactly on an edge belongs to the band that starts there — the **worse** grade
  (the conservative side: an obligor is never graded better than its PD allows);
- the representative PD of a grade is the geometric mid of its band unless given,

  .. math:: \\mathrm{PD}_g = \\sqrt{l_g \\, u_g},

  the point equidistant from both edges on the log-PD scale on which master scales are built
  (each band a roughly constant multiple of the previous one); a band starting at 0 must give it.

Nothing is read at import time: :func:`load_master_scale` reads the packaged default (or the
caller's file) on first use and validates it with pydantic.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from lendvalue.errors import DataContractError
from lendvalue.tables import load_table

__all__ = [
    "MIN_PERFORMING_GRADES",
    "GradeSpec",
    "MasterScale",
    "MasterScaleSpec",
    "ScoreCalibration",
    "load_master_scale",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
StrArray = npt.NDArray[np.object_]

MIN_PERFORMING_GRADES = 7
"""BCBS CRE36.70: at least seven grades for non-defaulted borrowers (and one for defaulted)."""

ScoreCalibration = Callable[[FloatArray], Any] | tuple[Sequence[float], Sequence[float]]
"""A score-to-PD calibration: a vectorised callable ``score -> PD`` or a pair
``(scores, pds)`` of calibration points (see :meth:`MasterScale.grade_of_score`)."""

_DEFAULT_FILE = "master_scale.yaml"


class GradeSpec(BaseModel):
    """One grade as written in the YAML file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(min_length=1, description="grade code, e.g. BBB")
    zh: str = Field(min_length=1, description="Chinese label")
    en: str = Field(min_length=1, description="English label")
    pd_lower: float | None = Field(default=None, ge=0.0, le=1.0, description="band start")
    pd_upper: float | None = Field(default=None, ge=0.0, le=1.0, description="band end")
    pd: float | None = Field(default=None, ge=0.0, le=1.0, description="representative PD")
    default: bool = Field(default=False, description="the default grade (PD = 1)")


class MasterScaleSpec(BaseModel):
    """A whole master-scale file, with the structural rules of the scale checked."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    name: str = "master scale"
    grades: list[GradeSpec]

    @model_validator(mode="after")
    def _check_scale(self) -> MasterScaleSpec:
        _check_grades(self.grades)
        return self


def _check_grades(grades: Sequence[GradeSpec]) -> None:
    """Every rule of a master scale, each failure naming the grade and the rule it breaks."""
    codes = [g.code for g in grades]
    dupes = sorted({c for c in codes if codes.count(c) > 1})
    if dupes:
        raise ValueError(f"grade codes must be unique; repeated: {', '.join(dupes)}")
    defaults = [g.code for g in grades if g.default]
    if len(defaults) != 1 or not grades[-1].default:
        raise ValueError(
            "exactly one default grade is required and it must come last (BCBS CRE36.70); "
            f"found default grades {defaults or 'none'}, last grade "
            f"{grades[-1].code if grades else '-'}"
        )
    performing = list(grades[:-1])
    if len(performing) < MIN_PERFORMING_GRADES:
        raise ValueError(
            f"at least {MIN_PERFORMING_GRADES} performing grades are required (BCBS CRE36.70); "
            f"found {len(performing)}: {', '.join(g.code for g in performing)}"
        )
    d = grades[-1]
    if d.pd is not None and d.pd != 1.0:
        raise ValueError(f"grade {d.code}: the default grade has PD = 1, got pd {d.pd}")
    if d.pd_lower not in (None, 1.0) or d.pd_upper not in (None, 1.0):
        raise ValueError(f"grade {d.code}: the default grade has no band below PD = 1")
    previous_upper = 0.0
    for i, g in enumerate(performing):
        if g.pd_lower is None or g.pd_upper is None:
            raise ValueError(f"grade {g.code}: pd_lower and pd_upper are required")
        if not g.pd_lower < g.pd_upper:
            raise ValueError(
                f"grade {g.code}: bands must increase (pd_lower < pd_upper), got "
                f"[{g.pd_lower}, {g.pd_upper})"
            )
        if i == 0 and g.pd_lower != 0.0:
            raise ValueError(
                f"grade {g.code}: the best grade's band must start at 0 so that every PD has a "
                f"grade, got pd_lower {g.pd_lower}"
            )
        if i > 0 and g.pd_lower < previous_upper:
            raise ValueError(
                f"grade {g.code}: band [{g.pd_lower}, {g.pd_upper}) overlaps the band of "
                f"{performing[i - 1].code}, which ends at {previous_upper}"
            )
        if i > 0 and g.pd_lower > previous_upper:
            raise ValueError(
                f"grade {g.code}: bands must be contiguous; PDs in [{previous_upper}, "
                f"{g.pd_lower}) between {performing[i - 1].code} and {g.code} have no grade"
            )
        if g.pd is None and g.pd_lower == 0.0:
            raise ValueError(
                f"grade {g.code}: a band starting at 0 has no geometric mid; give its "
                "representative pd"
            )
        if g.pd is not None and not g.pd_lower <= g.pd < g.pd_upper:
            raise ValueError(
                f"grade {g.code}: representative pd {g.pd} must lie in its band "
                f"[{g.pd_lower}, {g.pd_upper})"
            )
        previous_upper = g.pd_upper
    if previous_upper != 1.0:
        raise ValueError(
            f"grade {performing[-1].code}: the worst performing band must end at 1 so that every "
            f"PD below 1 has a grade, got pd_upper {previous_upper}"
        )


@dataclass(frozen=True, eq=False)
class MasterScale:
    """An ordered master scale; build it with :func:`load_master_scale` or
    :meth:`from_spec`.

    Attributes
    ----------
    name : the scale's name.
    codes : grade codes, best first; the last is the default grade.
    zh, en : Chinese and English labels per grade.
    pd_lower, pd_upper : band edges per grade (the default grade's band is ``[1, 1]``).
    representative_pd : representative PD per grade (1 for the default grade).
    """

    name: str
    codes: tuple[str, ...]
    zh: tuple[str, ...]
    en: tuple[str, ...]
    pd_lower: FloatArray
    pd_upper: FloatArray
    representative_pd: FloatArray

    @classmethod
    def from_spec(cls, spec: MasterScaleSpec) -> MasterScale:
        """The scale of a validated spec; geometric mids fill the missing representative PDs."""
        lower = np.array([1.0 if g.default else g.pd_lower for g in spec.grades], dtype=float)
        upper = np.array([1.0 if g.default else g.pd_upper for g in spec.grades], dtype=float)
        rep = np.array([_representative_pd(g) for g in spec.grades], dtype=float)
        for arr in (lower, upper, rep):
            arr.setflags(write=False)
        return cls(
            name=spec.name,
            codes=tuple(g.code for g in spec.grades),
            zh=tuple(g.zh for g in spec.grades),
            en=tuple(g.en for g in spec.grades),
            pd_lower=lower,
            pd_upper=upper,
            representative_pd=rep,
        )

    @classmethod
    def from_yaml(cls, path: str | Path) -> MasterScale:
        """Read and validate a master-scale YAML file (raises ``ConfigError`` naming the rule)."""
        return cls.from_spec(load_table(MasterScaleSpec, path, _DEFAULT_FILE))

    # --- properties --------------------------------------------------------------------------

    @property
    def n_grades(self) -> int:
        return len(self.codes)

    @property
    def default_code(self) -> str:
        """Code of the default grade (the last one)."""
        return self.codes[-1]

    @property
    def performing_codes(self) -> tuple[str, ...]:
        return self.codes[:-1]

    # --- lookups -----------------------------------------------------------------------------

    def grade_index(self, codes: Any) -> IntArray:
        """Position of each code on the scale (0 = best; the default grade is ``n_grades - 1``).

        Unknown codes raise ``DataContractError`` listing them and the scale's codes.
        """
        values = pd.Index(np.asarray(codes, dtype=object).ravel())
        idx = pd.Index(self.codes).get_indexer(values)
        if (idx < 0).any():
            bad = sorted({str(v) for v in values[idx < 0]})[:5]
            raise DataContractError(
                f"grades {bad} are not on the master scale {self.name!r}; expected one of "
                f"{', '.join(self.codes)}: recode them or pass the bank's own scale"
            )
        out: IntArray = idx.astype(np.int64).reshape(np.shape(codes))
        return out

    def pd_of_grade(self, codes: Any) -> FloatArray:
        """Representative PD of each grade code."""
        out: FloatArray = self.representative_pd[self.grade_index(codes)]
        return out

    def grade_of_pd(self, pd_1y: Any) -> StrArray:
        """Grade code of each one-year PD.

        .. math:: g(p) = \\max\\{g : l_g \\le p\\} \\text{ for } p < 1, \\qquad g(1) = D

        A PD exactly on a band edge gets the worse grade (the band that starts there). PDs must
        be finite and in [0, 1].
        """
        p = np.asarray(pd_1y, dtype=float)
        bad = ~np.isfinite(p) | (p < 0.0) | (p > 1.0)
        if bad.any():
            raise DataContractError(
                f"{int(bad.sum())} PD values are missing or outside [0, 1] (first: "
                f"{p[bad].ravel()[0]!r}); PDs are probabilities: fix or drop them before grading"
            )
        performing_lower = self.pd_lower[:-1]
        idx = np.searchsorted(performing_lower, p, side="right") - 1
        idx = np.where(p >= 1.0, self.n_grades - 1, idx)
        out: StrArray = np.asarray(self.codes, dtype=object)[idx]
        return out

    def grade_of_score(self, score: Any, calibration: ScoreCalibration) -> StrArray:
        """Grade of each score through a score-to-PD calibration.

        ``calibration`` is either a vectorised callable returning the PD of each score, or a
        pair ``(scores, pds)`` of calibration points with strictly increasing scores and
        monotone PDs in (0, 1). Between points the log-odds of PD is interpolated linearly in
        the score — exact for a points-to-double-the-odds scorecard, whose score is linear in
        the log-odds (Siddiqi 2017, *Intelligent Credit Scoring*, 2nd ed.):

        .. math:: \\operatorname{logit} \\mathrm{PD}(s) = \\operatorname{logit} p_k
                  + \\frac{s - s_k}{s_{k+1} - s_k}
                    (\\operatorname{logit} p_{k+1} - \\operatorname{logit} p_k),
                  \\qquad s_k \\le s \\le s_{k+1};

        beyond the end points the PD of the nearest point applies (no extrapolation).
        """
        s = np.asarray(score, dtype=float)
        if callable(calibration):
            return self.grade_of_pd(np.asarray(calibration(s), dtype=float))
        try:
            xs, ps = (np.asarray(a, dtype=float) for a in calibration)
        except (TypeError, ValueError) as exc:
            raise DataContractError(
                "calibration must be a callable score -> PD or a pair (scores, pds) of arrays"
            ) from exc
        if xs.ndim != 1 or xs.shape != ps.shape or xs.size < 2:
            raise DataContractError(
                f"calibration points must be two 1-d arrays of equal length >= 2, got shapes "
                f"{xs.shape} and {ps.shape}"
            )
        if not (np.diff(xs) > 0).all():
            raise DataContractError("calibration scores must be strictly increasing")
        if not ((ps > 0) & (ps < 1)).all():
            raise DataContractError("calibration PDs must lie strictly between 0 and 1")
        step = np.diff(ps)
        if not ((step >= 0).all() or (step <= 0).all()):
            raise DataContractError(
                "calibration PDs must be monotone in the score (a scorecard ranks risk)"
            )
        if not np.isfinite(s).all():
            raise DataContractError("scores must be finite; drop or impute missing scores first")
        logit = np.interp(s, xs, np.log(ps) - np.log1p(-ps))
        return self.grade_of_pd(1.0 / (1.0 + np.exp(-logit)))

    def labels(self, codes: Any, lang: Literal["zh", "en"] = "zh") -> StrArray:
        """Chinese (``zh``) or English (``en``) label of each grade code."""
        names = np.asarray(self.zh if lang == "zh" else self.en, dtype=object)
        out: StrArray = names[self.grade_index(codes)]
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per grade: ``grade``, ``index``, ``zh``, ``en``, ``pd_lower``, ``pd_upper``,
        ``pd`` and ``is_default``, for reports."""
        return pd.DataFrame(
            {
                "grade": list(self.codes),
                "index": np.arange(self.n_grades),
                "zh": list(self.zh),
                "en": list(self.en),
                "pd_lower": self.pd_lower,
                "pd_upper": self.pd_upper,
                "pd": self.representative_pd,
                "is_default": np.arange(self.n_grades) == self.n_grades - 1,
            }
        )


def _representative_pd(g: GradeSpec) -> float:
    if g.default:
        return 1.0
    if g.pd is not None:
        return g.pd
    return math.sqrt(float(g.pd_lower or 0.0) * float(g.pd_upper or 0.0))


@lru_cache(maxsize=1)
def _default_scale() -> MasterScale:
    return MasterScale.from_spec(load_table(MasterScaleSpec, None, _DEFAULT_FILE))


def load_master_scale(path: str | Path | None = None) -> MasterScale:
    """The master scale in ``path``, or the packaged default (read once, on first use)."""
    return _default_scale() if path is None else MasterScale.from_yaml(path)
