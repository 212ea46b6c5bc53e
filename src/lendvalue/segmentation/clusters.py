"""Behavioural clusters (行为客群): k-means on standardised customer features, k chosen by the
silhouette, each cluster described in words from its centroid.

The value–risk matrix sorts customers by two numbers; clusters find the groups in how customers
*use* the bank (deposits, utilisation, products, fees, tenure …) that cut across it.

Steps (:func:`behaviour_clusters`):

1. **Columns.** Numeric (or boolean) columns only — a text column raises
   :class:`~lendvalue.errors.DataContractError`, so does an infinite value. A column with every
   value missing, or constant once missing values are filled, carries no information for
   k-means (and its z-score is undefined): it is **dropped**, with the reason kept in
   ``dropped``, rather than stopping the run — a feature that is constant in one bank's book is
   a fact about the book, not an error. Only when no column is left does it raise.
2. **Imputation.** A missing value is replaced by its column's **median** (robust to the heavy
   tails of money and ratios; the medians are kept in ``medians``). An imputed customer sits at
   the centre of that feature and so is pulled towards no cluster by it.
3. **Standardisation.** z-scores over the imputed columns,
   :math:`z_{ij} = (x_{ij} - \\bar x_j) / s_j` with the population standard deviation, so each
   feature weighs the same in the Euclidean distance. Heavy-tailed features (CLV, balances)
   should be log-transformed by the caller first, or their outliers form clusters of their own.
4. **k-means** for every :math:`k` of ``k_range`` (scikit-learn ``KMeans``: k-means++ seeding,
   Arthur & Vassilvitskii 2007; Lloyd iterations; ``n_init=10`` restarts, ``random_state=seed``)
   on all rows.
5. **Choice of k** by the mean silhouette (Rousseeuw 1987, *J. Comput. Appl. Math.* 20, 53–65),

   .. math:: s(i) = \\frac{b(i) - a(i)}{\\max\\{a(i), b(i)\\}},

   :math:`a(i)` the mean distance from :math:`i` to its own cluster, :math:`b(i)` to the nearest
   other cluster. The silhouette costs :math:`O(n^2)`, so it is computed on one seeded random
   subsample of at most ``sample_size`` rows (the same rows for every k); 20,000 rows estimate
   the mean silhouette to about two decimals, enough to rank k. The k with the highest score
   wins, the smaller k on a tie; a k the data cannot support (fewer distinct points than k)
   scores NaN.
6. **Labels.** Clusters are renumbered by size, 0 the largest, so the numbering is stable for
   a seed and readable. Centroids are the clusters' means, in z-scores and in original units
   (after imputation).

Descriptions (:func:`describe_clusters`): the up to three features whose centroid |z| is largest
and above 0.5 — half a standard deviation from the book's mean — in words, from
:data:`FEATURE_PHRASES`; e.g. "高存款占比、低利用率" / "high deposit share, low utilisation".
They are relative to the book: "高利用率" means above this book's average. A cluster with no
|z| above 0.5 is "接近平均水平" / "close to the average".
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import silhouette_score

from lendvalue.errors import DataContractError

__all__ = [
    "AVERAGE_PHRASE",
    "FEATURE_PHRASES",
    "BehaviourClusters",
    "FeaturePhrase",
    "behaviour_clusters",
    "describe_clusters",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class FeaturePhrase(NamedTuple):
    """How a feature reads when a cluster is above (high) or below (low) the book's mean."""

    zh_high: str
    zh_low: str
    en_high: str
    en_low: str


FEATURE_PHRASES: Mapping[str, FeaturePhrase] = {
    # value
    "clv": FeaturePhrase("高客户价值", "低客户价值", "high lifetime value", "low lifetime value"),
    "raroc": FeaturePhrase("高RAROC", "低RAROC", "high RAROC", "low RAROC"),
    "eva_12m": FeaturePhrase("高经济增加值", "低经济增加值", "high EVA", "low EVA"),
    "current_value": FeaturePhrase("高当前价值", "低当前价值", "high current value",
                                   "low current value"),
    "potential_value": FeaturePhrase("高潜在价值", "低潜在价值", "high potential value",
                                     "low potential value"),
    # relationship and behaviour
    "deposit_share": FeaturePhrase("高存款占比", "低存款占比", "high deposit share",
                                   "low deposit share"),
    "utilisation": FeaturePhrase("高利用率", "低利用率", "high utilisation", "low utilisation"),
    "n_products": FeaturePhrase("产品多", "产品少", "many products", "few products"),
    "tenure_months": FeaturePhrase("合作时间长", "合作时间短", "long relationship",
                                   "short relationship"),
    "fee_trend": FeaturePhrase("中收增长快", "中收增长慢", "fast fee growth", "slow fee growth"),
    "deposit_trend": FeaturePhrase("存款增长快", "存款增长慢", "fast deposit growth",
                                   "slow deposit growth"),
    # credit
    "pd_1y": FeaturePhrase("高违约概率", "低违约概率", "high PD", "low PD"),
    "grade_index": FeaturePhrase("评级偏低", "评级偏高", "weaker grade", "stronger grade"),
    "max_dpd_12m": FeaturePhrase("逾期天数多", "逾期天数少", "more days past due",
                                 "fewer days past due"),
    "late_payments_12m": FeaturePhrase("逾期次数多", "逾期次数少", "frequent late payments",
                                       "few late payments"),
    # financials
    "leverage": FeaturePhrase("高杠杆", "低杠杆", "high leverage", "low leverage"),
    "revenue_growth": FeaturePhrase("营收增长快", "营收增长慢", "fast revenue growth",
                                    "slow revenue growth"),
    "interest_cover": FeaturePhrase("利息保障倍数高", "利息保障倍数低", "high interest cover",
                                    "low interest cover"),
    "dscr": FeaturePhrase("偿债覆盖率高", "偿债覆盖率低", "high debt-service cover",
                          "low debt-service cover"),
    "current_ratio": FeaturePhrase("流动比率高", "流动比率低", "high current ratio",
                                   "low current ratio"),
    "roa": FeaturePhrase("资产回报率高", "资产回报率低", "high ROA", "low ROA"),
    "size": FeaturePhrase("规模大", "规模小", "large firms", "small firms"),
    "log_total_assets": FeaturePhrase("规模大", "规模小", "large firms", "small firms"),
}  # fmt: skip
"""Known feature names → phrases. Others read "x 偏高"/"x 偏低" and "high x"/"low x"."""

AVERAGE_PHRASE = ("接近平均水平", "close to the average")
"""The description of a cluster with no feature beyond the threshold."""


# ---------------------------------------------------------------------------------------------
# Descriptions
# ---------------------------------------------------------------------------------------------


def _phrase(feature: str) -> FeaturePhrase:
    known = FEATURE_PHRASES.get(feature)
    if known is not None:
        return known
    return FeaturePhrase(f"{feature} 偏高", f"{feature} 偏低", f"high {feature}", f"low {feature}")


def describe_clusters(
    centroids_z: pd.DataFrame, *, threshold: float = 0.5, top: int = 3
) -> pd.DataFrame:
    """Each cluster in words from its centroid's z-scores.

    Parameters
    ----------
    centroids_z : one row per cluster, one column per feature, in z-scores.
    threshold : a feature is named when its centroid |z| exceeds this (0.5 = half a standard
        deviation from the book's mean).
    top : at most this many features, largest |z| first (ties in column order).

    Returns
    -------
    On ``centroids_z``'s index: ``description_zh`` (phrases joined by 、) and
    ``description_en`` (joined by ", ").
    """
    zh: list[str] = []
    en: list[str] = []
    names = list(map(str, centroids_z.columns))
    for row in centroids_z.to_numpy(dtype=float):  # one pass per cluster, not per customer
        size = np.abs(np.nan_to_num(row))
        order = [j for j in np.argsort(-size, kind="stable")[:top] if size[j] > threshold]
        if not order:
            zh.append(AVERAGE_PHRASE[0])
            en.append(AVERAGE_PHRASE[1])
            continue
        words = [(_phrase(names[j]), row[j] > 0) for j in order]
        zh.append("、".join(p.zh_high if up else p.zh_low for p, up in words))
        en.append(", ".join(p.en_high if up else p.en_low for p, up in words))
    return pd.DataFrame({"description_zh": zh, "description_en": en}, index=centroids_z.index)


# ---------------------------------------------------------------------------------------------
# Clustering
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class BehaviourClusters:
    """The result of :func:`behaviour_clusters`.

    Attributes
    ----------
    k : the number of clusters chosen.
    labels : each customer's cluster (0 = largest), on the customers' index.
    silhouette : mean silhouette by k (index ``k``; NaN where the data cannot support k).
    centroids : cluster × feature means in original units (after median imputation).
    centroids_z : the same in z-scores.
    sizes : customers per cluster.
    descriptions : ``description_zh`` and ``description_en`` per cluster.
    features : the columns used, in order.
    dropped : column → why it was left out.
    medians, means, stds : the imputation and standardisation of each used column (what
        :meth:`assign` applies to new customers).
    """

    k: int
    labels: pd.Series
    silhouette: pd.Series
    centroids: pd.DataFrame
    centroids_z: pd.DataFrame
    sizes: pd.Series
    descriptions: pd.DataFrame
    features: tuple[str, ...]
    dropped: Mapping[str, str] = field(default_factory=dict)
    medians: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    means: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    stds: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))

    def summary(self) -> pd.DataFrame:
        """One row per cluster: ``size``, ``share``, the descriptions, then the centroid in
        original units."""
        out = pd.DataFrame(
            {"size": self.sizes, "share": self.sizes / self.sizes.sum()}, index=self.sizes.index
        )
        return pd.concat([out, self.descriptions, self.centroids], axis=1)

    def assign(self, features: pd.DataFrame) -> pd.Series:
        """The nearest cluster of each row of ``features`` (which must hold :attr:`features`),
        imputed and standardised as the fitted book was — for new customers or a later date."""
        frame, index = _feature_frame(features)
        missing = [f for f in self.features if f not in frame.columns]
        if missing:
            raise DataContractError(
                f"assign needs the clustered features; missing {', '.join(missing)}"
            )
        x = _numeric(frame[list(self.features)])
        x = np.where(np.isnan(x), self.medians.to_numpy(), x)
        z = (x - self.means.to_numpy()) / self.stds.to_numpy()
        c = self.centroids_z.to_numpy()
        dist = (z**2).sum(axis=1)[:, None] - 2.0 * z @ c.T + (c**2).sum(axis=1)[None, :]
        return pd.Series(np.argmin(dist, axis=1), index=index, name="cluster")


def _feature_frame(features: pd.DataFrame) -> tuple[pd.DataFrame, pd.Index]:
    """The feature columns and the customers' index (``customer_id`` when it is a column)."""
    if not isinstance(features, pd.DataFrame):
        raise DataContractError(
            f"features must be a DataFrame (one row per customer), got {type(features).__name__}"
        )
    if "customer_id" in features.columns:
        return features.drop(columns="customer_id"), pd.Index(features["customer_id"])
    return features, features.index


def _numeric(frame: pd.DataFrame) -> FloatArray:
    bad = [
        str(c)
        for c in frame.columns
        if not (pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]))
    ]
    if bad:
        raise DataContractError(
            f"features must be numeric; {', '.join(bad)} are not. Encode categories as 0/1 "
            "columns or leave them out (use the value-risk matrix for tiers)"
        )
    x = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isinf(x).any():
        cols = sorted({str(frame.columns[int(j)]) for j in np.nonzero(np.isinf(x))[1]})
        raise DataContractError(
            f"features {', '.join(cols)} hold infinite values; a ratio with a zero denominator "
            "is missing (NaN), not infinite"
        )
    return x


def _standardise(
    x: FloatArray, names: list[str]
) -> tuple[FloatArray, list[int], dict[str, str], FloatArray, FloatArray, FloatArray]:
    """Drop uninformative columns, impute medians, z-score. Returns z, kept column positions,
    drop reasons, medians, means and stds of the kept columns."""
    all_missing: npt.NDArray[np.bool_] = np.asarray(np.isnan(x).all(axis=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: median is NaN
        medians = np.nanmedian(x, axis=0)
    filled = np.where(np.isnan(x), medians, x)
    means = filled.mean(axis=0)
    stds = filled.std(axis=0)
    scale = np.maximum(np.abs(means), 1.0)
    constant = ~all_missing & (stds <= 1e-12 * scale)
    dropped: dict[str, str] = {}
    for j, name in enumerate(names):
        if all_missing[j]:
            dropped[name] = "all values missing"
        elif constant[j]:
            had_missing = bool(np.isnan(x[:, j]).any())
            dropped[name] = f"constant (every value {medians[j]:g}" + (
                " once missing values are filled with the median)" if had_missing else ")"
            )
    keep = [j for j in range(len(names)) if names[j] not in dropped]
    z = (filled[:, keep] - means[keep]) / stds[keep]
    return z, keep, dropped, medians[keep], means[keep], stds[keep]


def _silhouette_by_k(
    z: FloatArray, ks: list[int], seed: int, sample: IntArray
) -> tuple[dict[int, float], dict[int, IntArray]]:
    scores: dict[int, float] = {}
    best_labels: dict[int, IntArray] = {}
    best = -np.inf
    n_sample = sample.size
    for k in ks:
        scores[k] = np.nan
        if k >= z.shape[0]:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # fewer distinct points than k
            labels = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(z).labels_
        if np.unique(labels).size < k:
            continue
        sub = labels[sample]
        if not 2 <= np.unique(sub).size <= n_sample - 1:
            continue
        scores[k] = float(silhouette_score(z[sample], sub))
        if scores[k] > best:  # strict: the smaller k wins a tie
            best = scores[k]
            best_labels = {k: labels.astype(np.int64)}
    return scores, best_labels


def behaviour_clusters(
    features: pd.DataFrame,
    k_range: Iterable[int] = range(2, 9),
    seed: int = 0,
    sample_size: int = 20_000,
) -> BehaviourClusters:
    """Cluster customers on their features; k by the silhouette (module notes).

    Parameters
    ----------
    features : one row per customer, numeric columns (a ``customer_id`` column, when present,
        becomes the labels' index and is not a feature). Missing values are filled with the
        column's median; all-missing and constant columns are dropped (see ``dropped``).
    k_range : the numbers of clusters to try (each ≥ 2).
    seed : seeds k-means and the silhouette subsample; the same seed gives the same result.
    sample_size : the silhouette is computed on a random subsample of at most this many rows.

    Returns
    -------
    :class:`BehaviourClusters`.
    """
    frame, index = _feature_frame(features)
    ks = sorted({int(k) for k in k_range})
    if not ks or ks[0] < 2:
        raise DataContractError(f"k_range must hold numbers of clusters ≥ 2, got {ks}")
    if sample_size < 3:
        raise DataContractError(f"sample_size must be at least 3, got {sample_size}")
    if len(frame) < 3:
        raise DataContractError(f"clustering needs at least 3 customers, got {len(frame)}")
    names = [str(c) for c in frame.columns]
    if len(set(names)) != len(names):
        raise DataContractError("feature names must be unique")
    x = _numeric(frame)
    z, keep, dropped, medians, means, stds = _standardise(x, names)
    if not keep:
        reasons = "; ".join(f"{k}: {v}" for k, v in dropped.items()) or "no columns"
        raise DataContractError(
            f"no usable feature is left to cluster on ({reasons}); pass features that vary "
            "across customers"
        )
    used = [names[j] for j in keep]

    n = z.shape[0]
    rng = np.random.default_rng(seed)
    if n > sample_size:
        sample = np.sort(rng.choice(n, size=sample_size, replace=False)).astype(np.int64)
    else:
        sample = np.arange(n, dtype=np.int64)
    scores, best = _silhouette_by_k(z, ks, seed, sample)
    if not best:
        raise DataContractError(
            f"no k in {ks} can be scored: the data have too few distinct customers "
            f"({np.unique(z, axis=0).shape[0]}) for these numbers of clusters"
        )
    ((k, raw_labels),) = best.items()

    # renumber by size (0 = largest; k-means' own number breaks ties)
    raw_sizes = np.bincount(raw_labels, minlength=k)
    order = np.lexsort((np.arange(k), -raw_sizes))
    new_of_old = np.empty(k, dtype=np.int64)
    new_of_old[order] = np.arange(k)
    labels = new_of_old[raw_labels]

    clusters = pd.RangeIndex(k, name="cluster")
    sizes = np.bincount(labels, minlength=k)
    sums = np.stack([np.bincount(labels, weights=z[:, j], minlength=k) for j in range(len(used))])
    cz = (sums / sizes).T
    centroids_z = pd.DataFrame(cz, index=clusters, columns=used)
    centroids = pd.DataFrame(cz * stds + means, index=clusters, columns=used)
    return BehaviourClusters(
        k=k,
        labels=pd.Series(labels, index=index, name="cluster"),
        silhouette=pd.Series(scores, name="silhouette").rename_axis("k"),
        centroids=centroids,
        centroids_z=centroids_z,
        sizes=pd.Series(sizes, index=clusters, name="size"),
        descriptions=describe_clusters(centroids_z),
        features=tuple(used),
        dropped=dropped,
        medians=pd.Series(medians, index=used, name="median"),
        means=pd.Series(means, index=used, name="mean"),
        stds=pd.Series(stds, index=used, name="std"),
    )
