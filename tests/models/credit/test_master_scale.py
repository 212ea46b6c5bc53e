"""Master scale: the packaged default, lookups, band edges and the checks on a scale file."""

from __future__ import annotations

import copy
import itertools
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from lendvalue.contract import GRADES
from lendvalue.errors import ConfigError, DataContractError
from lendvalue.models.credit.master_scale import (
    MIN_PERFORMING_GRADES,
    MasterScale,
    load_master_scale,
)

SCALE = load_master_scale()


def default_yaml() -> dict[str, Any]:
    text = (
        resources.files("lendvalue.models.credit")
        .joinpath("defaults", "master_scale.yaml")
        .read_text("utf-8")
    )
    raw: dict[str, Any] = yaml.safe_load(text)
    return raw


def write(tmp_path: Path, raw: dict[str, Any]) -> Path:
    path = tmp_path / "scale.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


# --- the default scale -----------------------------------------------------------------------


def test_default_scale_has_the_contract_codes_and_basel_minimum() -> None:
    assert SCALE.codes == tuple(g.code for g in GRADES)
    assert len(SCALE.performing_codes) == MIN_PERFORMING_GRADES == 7  # BCBS CRE36.70
    assert SCALE.default_code == "D"
    assert SCALE.representative_pd[-1] == 1.0
    perf = slice(0, -1)
    assert SCALE.pd_lower[0] == 0.0 and SCALE.pd_upper[-2] == 1.0
    np.testing.assert_array_equal(SCALE.pd_upper[perf][:-1], SCALE.pd_lower[perf][1:])
    assert (SCALE.pd_lower[perf] < SCALE.pd_upper[perf]).all()
    assert (SCALE.pd_lower[perf] <= SCALE.representative_pd[perf]).all()
    assert (SCALE.representative_pd[perf] < SCALE.pd_upper[perf]).all()
    assert (np.diff(SCALE.representative_pd) > 0).all()


def test_representative_pd_is_the_geometric_mid_unless_given() -> None:
    # AA is not given in the YAML: sqrt(0.0005 * 0.0012); AAA and CCC are given.
    assert SCALE.pd_of_grade("AA") == pytest.approx(np.sqrt(0.0005 * 0.0012), rel=1e-15)
    assert SCALE.pd_of_grade("AAA") == 0.0003
    assert SCALE.pd_of_grade("CCC") == 0.20


def test_load_master_scale_is_cached_and_reads_a_given_file(tmp_path: Path) -> None:
    assert load_master_scale() is SCALE
    other = load_master_scale(write(tmp_path, default_yaml()))
    assert other is not SCALE and other.codes == SCALE.codes
    np.testing.assert_array_equal(other.representative_pd, SCALE.representative_pd)


def test_labels_and_frame() -> None:
    assert SCALE.labels(["D"], "zh")[0] == "违约"
    assert SCALE.labels(["D"], "en")[0] == "default"
    frame = SCALE.to_frame()
    assert list(frame.columns) == [
        "grade", "index", "zh", "en", "pd_lower", "pd_upper", "pd", "is_default",
    ]  # fmt: skip
    assert frame["is_default"].tolist() == [False] * 7 + [True]
    assert frame["grade"].tolist() == list(SCALE.codes)


# --- lookups ---------------------------------------------------------------------------------


def test_round_trips() -> None:
    codes = np.array(SCALE.codes, dtype=object)
    np.testing.assert_array_equal(SCALE.grade_index(codes), np.arange(8))
    np.testing.assert_array_equal(SCALE.grade_of_pd(SCALE.pd_of_grade(codes)), codes)
    grid = np.array([["AAA", "B"], ["CCC", "D"]], dtype=object)
    assert SCALE.pd_of_grade(grid).shape == (2, 2)


@pytest.mark.parametrize(
    ("pd_1y", "grade"),
    [
        (0.0, "AAA"),
        (0.00049999, "AAA"),
        (0.0005, "AA"),  # on the edge: the band that starts there, the worse grade
        (0.0012, "A"),
        (0.0035, "BBB"),
        (0.01, "BB"),
        (0.035, "B"),
        (0.0999999, "B"),
        (0.10, "CCC"),
        (0.999999, "CCC"),
        (1.0, "D"),
    ],
)
def test_band_edges_go_to_the_worse_grade(pd_1y: float, grade: str) -> None:
    assert SCALE.grade_of_pd([pd_1y])[0] == grade


def test_bad_inputs_raise_data_contract_errors() -> None:
    with pytest.raises(DataContractError, match="outside"):
        SCALE.grade_of_pd([0.1, np.nan])
    with pytest.raises(DataContractError, match="outside"):
        SCALE.grade_of_pd([1.5])
    with pytest.raises(DataContractError, match=r"\['AA\+'\] are not on the master scale"):
        SCALE.grade_index(["AA+", "BBB"])


def test_grade_of_score_interpolates_log_odds() -> None:
    # two points: PD 20% at score 300, 0.05% at 900; the log-odds are linear in between
    scores, pds = np.array([300.0, 900.0]), np.array([0.20, 0.0005])
    logit = np.log(pds / (1 - pds))
    mid = 1 / (1 + np.exp(-logit.mean()))  # score 600
    assert SCALE.grade_of_score([600.0], (scores, pds))[0] == SCALE.grade_of_pd([mid])[0]
    got = SCALE.grade_of_score([100.0, 300.0, 600.0, 900.0, 2000.0], (scores, pds))
    assert got.tolist() == ["CCC", "CCC", "BB", "AA", "AA"]  # flat beyond the end points
    by_callable = SCALE.grade_of_score([0.3, 0.05], lambda s: s)
    assert by_callable.tolist() == ["CCC", "B"]
    with pytest.raises(DataContractError, match="strictly increasing"):
        SCALE.grade_of_score([1.0], ([2.0, 1.0], [0.1, 0.2]))
    with pytest.raises(DataContractError, match="monotone"):
        SCALE.grade_of_score([1.0], ([1.0, 2.0, 3.0], [0.1, 0.2, 0.1]))


@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=50))
def test_every_pd_falls_in_its_grade_band_and_grading_is_monotone(values: list[float]) -> None:
    p = np.sort(np.array(values))
    idx = SCALE.grade_index(SCALE.grade_of_pd(p))
    assert (np.diff(idx) >= 0).all()
    performing = p < 1.0
    assert (SCALE.pd_lower[idx[performing]] <= p[performing]).all()
    assert (p[performing] < SCALE.pd_upper[idx[performing]]).all()
    assert (idx[~performing] == 7).all()


# --- checks on a scale file ------------------------------------------------------------------


def mutated(change: Any) -> dict[str, Any]:
    raw = copy.deepcopy(default_yaml())
    change(raw["grades"])
    return raw


def _overlap(g: list[dict[str, Any]]) -> None:
    g[3]["pd_lower"] = 0.003  # BBB starts before A (ends 0.0035) ends


def _gap(g: list[dict[str, Any]]) -> None:
    g[3]["pd_lower"] = 0.004


def _six(g: list[dict[str, Any]]) -> None:
    del g[5]  # drop B: six performing grades
    g[5]["pd_lower"] = 0.035


def _no_default(g: list[dict[str, Any]]) -> None:
    del g[-1]


def _default_first(g: list[dict[str, Any]]) -> None:
    g.insert(0, g.pop())


def _pd_outside(g: list[dict[str, Any]]) -> None:
    g[2]["pd"] = 0.01


def _zero_without_pd(g: list[dict[str, Any]]) -> None:
    del g[0]["pd"]


def _decreasing(g: list[dict[str, Any]]) -> None:
    g[4]["pd_upper"] = 0.005


def _not_to_one(g: list[dict[str, Any]]) -> None:
    g[6]["pd_upper"] = 0.5


def _repeated(g: list[dict[str, Any]]) -> None:
    g[1]["code"] = "AAA"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_overlap, r"grade BBB: band \[0\.003, 0\.01\) overlaps the band of A"),
        (_gap, r"grade BBB: bands must be contiguous"),
        (_six, r"at least 7 performing grades .*CRE36\.70.*found 6"),
        (_no_default, r"exactly one default grade"),
        (_default_first, r"exactly one default grade is required and it must come last"),
        (_pd_outside, r"grade A: representative pd 0\.01 must lie in its band"),
        (_zero_without_pd, r"grade AAA: a band starting at 0 has no geometric mid"),
        (_decreasing, r"grade BB: bands must increase"),
        (_not_to_one, r"grade CCC: the worst performing band must end at 1"),
        (_repeated, r"grade codes must be unique; repeated: AAA"),
    ],
)
def test_invalid_scale_files_raise_config_error_naming_the_rule(
    tmp_path: Path, change: Any, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        MasterScale.from_yaml(write(tmp_path, mutated(change)))


def test_unreadable_or_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_master_scale(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("grades: [", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_master_scale(bad)
    extra = default_yaml() | {"colour": "red"}
    with pytest.raises(ConfigError, match="colour"):
        load_master_scale(write(tmp_path, extra))


def test_a_finer_bank_scale_loads(tmp_path: Path) -> None:
    edges = [0.0, 0.0003, 0.0006, 0.0012, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.12, 1.0]
    grades = [
        {"code": f"R{i + 1}", "zh": f"{i + 1}级", "en": f"grade {i + 1}",
         "pd_lower": lo, "pd_upper": hi}
        for i, (lo, hi) in enumerate(itertools.pairwise(edges))
    ]  # fmt: skip
    grades[0]["pd"] = 0.0002
    grades.append({"code": "R11", "zh": "违约", "en": "default", "default": True})
    scale = load_master_scale(write(tmp_path, {"version": 1, "name": "bank", "grades": grades}))
    assert scale.n_grades == 11 and scale.default_code == "R11"
    assert scale.grade_of_pd([0.0025, 0.0024999])[0] == "R5"
    assert scale.pd_of_grade("R10") == pytest.approx(np.sqrt(0.12))
