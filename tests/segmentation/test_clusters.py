"""Behavioural clusters: three well-separated blobs are found (k by the silhouette, labels by the
adjusted Rand index), described in the right words, reproducibly; uninformative columns are
dropped with their reason."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from lendvalue.errors import DataContractError
from lendvalue.segmentation import (
    AVERAGE_PHRASE,
    BehaviourClusters,
    behaviour_clusters,
    describe_clusters,
)

N_PER_BLOB = 300
# blob A: deposit-rich, little drawn; B: the opposite; C: average use, high RAROC
CENTRES = {
    "deposit_share": (0.8, 0.2, 0.5),
    "utilisation": (0.2, 0.9, 0.5),
    "raroc": (0.15, 0.15, 0.30),
}
SPREAD = {"deposit_share": 0.05, "utilisation": 0.05, "raroc": 0.015}


def blobs(seed: int = 1) -> tuple[pd.DataFrame, np.ndarray]:
    """Three Gaussian blobs about 6 standard deviations apart, plus one pure-noise feature, a
    constant and an empty column, and missing utilisation for every 7th customer."""
    rng = np.random.default_rng(seed)
    blob = np.repeat(np.arange(3), N_PER_BLOB)
    frame = pd.DataFrame(
        {name: rng.normal(np.array(c)[blob], SPREAD[name]) for name, c in CENTRES.items()}
    )
    frame["tenure_months"] = rng.normal(60.0, 20.0, blob.size)
    frame["n_products"] = 2.0
    frame["fee_trend"] = np.nan
    frame.loc[::7, "utilisation"] = np.nan
    frame.insert(0, "customer_id", [f"C{i:04d}" for i in range(blob.size)])
    return frame, blob


@pytest.fixture(scope="module")
def fitted() -> tuple[BehaviourClusters, pd.DataFrame, np.ndarray]:
    frame, blob = blobs()
    return behaviour_clusters(frame, seed=0), frame, blob


def cluster_of(result: BehaviourClusters, blob: np.ndarray, which: int) -> int:
    return int(result.labels.to_numpy()[blob == which].max())


def test_silhouette_chooses_three_and_recovers_the_blobs(
    fitted: tuple[BehaviourClusters, pd.DataFrame, np.ndarray],
) -> None:
    result, _, blob = fitted
    assert list(result.silhouette.index) == list(range(2, 9))
    assert result.silhouette.idxmax() == 3 == result.k
    assert adjusted_rand_score(blob, result.labels.to_numpy()) > 0.95
    assert result.sizes.sum() == blob.size and len(result.sizes) == 3
    assert (np.diff(result.sizes.to_numpy()) <= 0).all()  # numbered by size


def test_centroids_in_original_units_and_z(
    fitted: tuple[BehaviourClusters, pd.DataFrame, np.ndarray],
) -> None:
    result, frame, blob = fitted
    assert result.features == ("deposit_share", "utilisation", "raroc", "tenure_months")
    imputed = frame[list(CENTRES)].fillna(frame[list(CENTRES)].median())
    for which in range(3):
        row = result.centroids.loc[cluster_of(result, blob, which)]
        for name, centre in CENTRES.items():
            # a centroid is its members' mean after imputation: the imputed utilisations (every
            # 7th customer, at the median) pull blobs A and B towards 0.5
            assert row[name] == pytest.approx(imputed[name][blob == which].mean(), abs=1e-3)
            if name != "utilisation":
                assert row[name] == pytest.approx(centre[which], abs=0.01)
    z = (result.centroids - result.means) / result.stds
    np.testing.assert_allclose(z.to_numpy(), result.centroids_z.to_numpy(), atol=1e-12)
    assert result.medians["utilisation"] == pytest.approx(frame["utilisation"].median())


def test_descriptions_name_the_right_features_in_the_right_direction(
    fitted: tuple[BehaviourClusters, pd.DataFrame, np.ndarray],
) -> None:
    result, _, blob = fitted
    a, b, c = (result.descriptions.loc[cluster_of(result, blob, w)] for w in range(3))
    assert a["description_zh"].startswith("高存款占比、低利用率")
    assert a["description_en"].startswith("high deposit share, low utilisation")
    assert b["description_zh"].startswith(("低存款占比、高利用率", "高利用率、低存款占比"))
    assert "high utilisation" in b["description_en"] and "low deposit share" in b["description_en"]
    assert c["description_zh"] == "高RAROC" and c["description_en"] == "high RAROC"
    assert "tenure" not in " ".join(result.descriptions["description_en"])  # noise stays quiet
    assert set(result.summary().columns[:4]) == {"size", "share", "description_zh",
                                                 "description_en"}  # fmt: skip


def test_customer_ids_label_the_result(
    fitted: tuple[BehaviourClusters, pd.DataFrame, np.ndarray],
) -> None:
    result, frame, _ = fitted
    assert list(result.labels.index) == list(frame["customer_id"])
    assert (result.assign(frame) == result.labels).all()


def test_uninformative_columns_are_dropped_with_a_reason(
    fitted: tuple[BehaviourClusters, pd.DataFrame, np.ndarray],
) -> None:
    result, _, _ = fitted
    assert result.dropped == {
        "n_products": "constant (every value 2)",
        "fee_trend": "all values missing",
    }
    frame = pd.DataFrame({"x": [1.0, np.nan, 1.0, 1.0], "y": [1.0, 2.0, 3.0, 4.0]})
    dropped = behaviour_clusters(frame, k_range=[2]).dropped
    assert dropped == {
        "x": "constant (every value 1 once missing values are filled with the median)"
    }


def test_deterministic_for_a_seed() -> None:
    frame, _ = blobs(seed=5)
    frame["noise"] = np.random.default_rng(9).normal(size=len(frame))
    one = behaviour_clusters(frame, k_range=range(2, 6), seed=3, sample_size=500)
    two = behaviour_clusters(frame, k_range=range(2, 6), seed=3, sample_size=500)
    pd.testing.assert_series_equal(one.labels, two.labels)
    pd.testing.assert_series_equal(one.silhouette, two.silhouette)
    pd.testing.assert_frame_equal(one.centroids, two.centroids)


def test_silhouette_on_a_subsample_still_finds_the_blobs() -> None:
    frame, blob = blobs(seed=2)
    result = behaviour_clusters(frame, k_range=range(2, 6), sample_size=150)
    assert result.k == 3
    assert adjusted_rand_score(blob, result.labels.to_numpy()) > 0.95


def test_k_the_data_cannot_support_scores_nan() -> None:
    frame = pd.DataFrame({"x": [0.0, 0.0, 0.0, 10.0, 10.0, 10.0, 20.0, 20.0]})
    result = behaviour_clusters(frame, k_range=[2, 3, 4, 10])
    assert result.k == 3
    assert np.isnan(result.silhouette[4]) and np.isnan(result.silhouette[10])


def test_describe_clusters_rules() -> None:
    z = pd.DataFrame(
        {
            "deposit_share": [1.2, 0.1, -0.9],
            "utilisation": [-0.8, 0.2, 0.3],
            "max_dpd_12m": [0.6, -0.4, 0.0],
            "mystery": [0.55, 0.3, -2.0],
        }
    )
    words = describe_clusters(z)
    assert words.loc[0, "description_zh"] == "高存款占比、低利用率、逾期天数多"  # top 3 of 4
    assert words.loc[0, "description_en"] == (
        "high deposit share, low utilisation, more days past due"
    )
    assert tuple(words.loc[1]) == AVERAGE_PHRASE == ("接近平均水平", "close to the average")
    assert words.loc[2, "description_zh"] == "mystery 偏低、低存款占比"
    assert words.loc[2, "description_en"] == "low mystery, low deposit share"


def test_bad_features_raise() -> None:
    with pytest.raises(DataContractError, match="industry are not"):
        behaviour_clusters(pd.DataFrame({"x": [1.0, 2.0, 3.0], "industry": ["C", "F", "K"]}))
    with pytest.raises(DataContractError, match="x hold infinite values"):
        behaviour_clusters(pd.DataFrame({"x": [1.0, np.inf, 3.0]}))
    with pytest.raises(DataContractError, match=r"no usable feature.*c: constant.*e: all values"):
        behaviour_clusters(pd.DataFrame({"c": [1.0, 1.0, 1.0], "e": [np.nan] * 3}))
    with pytest.raises(DataContractError, match="k_range"):
        behaviour_clusters(pd.DataFrame({"x": [1.0, 2.0, 3.0]}), k_range=[1, 2])
    with pytest.raises(DataContractError, match="at least 3 customers"):
        behaviour_clusters(pd.DataFrame({"x": [1.0, 2.0]}))
    with pytest.raises(DataContractError, match="no k"):
        behaviour_clusters(pd.DataFrame({"x": [1.0, 1.0, 2.0, 2.0]}), k_range=[3])
