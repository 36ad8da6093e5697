"""Checks segcast's clustering against scikit-learn on the same customers.

Usage: kmeans_check.py OUTDIR [--tol 0.005]

Reads OUTDIR/customer_segments.csv, kmeans_model.json, model_selection.csv
and summary.json and checks, independently of segcast's code:
  - the transform: log1p then StandardScaler (ddof 0) on the customers'
    features gives the model's means and stds;
  - the labels: every customer is in the cluster of its nearest centroid;
  - inertia, Calinski-Harabasz and Davies-Bouldin of segcast's labels
    equal scikit-learn's metrics on the same labels; the silhouette
    equals silhouette_score when every customer is in the sample;
  - the chosen k's inertia is within --tol (0.5 %) of scikit-learn's
    KMeans(n_clusters=k, n_init=10) on the same standardized features
    (segcast lower is fine).
Exits 1 on any failure.
"""
import json
import sys

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score
from sklearn.preprocessing import StandardScaler


def main():
    out = sys.argv[1]
    tol = float(sys.argv[sys.argv.index("--tol") + 1]) if "--tol" in sys.argv else 0.005
    cust = pd.read_csv(f"{out}/customer_segments.csv", keep_default_na=False)
    model = json.load(open(f"{out}/kmeans_model.json"))
    summ = json.load(open(f"{out}/summary.json"))["segment"]
    sel = pd.read_csv(f"{out}/model_selection.csv", keep_default_na=False)
    feats = model["features"]
    ok = True

    def check(what, good, detail):
        nonlocal ok
        print(f"{'ok ' if good else 'BAD'} {what}: {detail}")
        ok &= bool(good)

    X = np.log1p(cust[feats].to_numpy(dtype=float))
    sc = StandardScaler().fit(X)
    check("transform means", np.allclose(sc.mean_, model["means"], rtol=1e-12, atol=1e-12),
          f"segcast {model['means']} sklearn {list(sc.mean_)}")
    check("transform stds", np.allclose(sc.scale_, model["stds"], rtol=1e-12, atol=1e-12),
          f"segcast {model['stds']} sklearn {list(sc.scale_)}")
    Z = sc.transform(X)
    C = np.array(model["centroids"])
    k = len(C)
    labels = cust["cluster"].to_numpy()
    d2 = ((Z[:, None, :] - C[None, :, :]) ** 2).sum(axis=2)
    nearest = d2.argmin(axis=1)
    gap = np.sort(d2, axis=1)
    tie = (gap[:, 1] - gap[:, 0]) < 1e-9 if k > 1 else np.zeros(len(Z), bool)
    wrong = (nearest != labels) & ~tie
    check("labels are the nearest centroid", wrong.sum() == 0, f"{int(wrong.sum())} of {len(Z)} customers differ")
    names = model["names"]
    check("cluster names", (cust["cluster_name"].to_numpy() == np.array(names)[labels]).all(), "match the model")
    inertia = float(d2[np.arange(len(Z)), labels].sum())
    check("inertia", abs(inertia - summ["inertia"]) <= 1e-6 * max(1.0, inertia),
          f"segcast {summ['inertia']:.9f} recomputed {inertia:.9f}")
    if len(np.unique(labels)) > 1:
        ch = calinski_harabasz_score(Z, labels)
        db = davies_bouldin_score(Z, labels)
        check("Calinski-Harabasz", abs(ch - summ["calinski_harabasz"]) <= 1e-6 * ch,
              f"segcast {summ['calinski_harabasz']:.9f} sklearn {ch:.9f}")
        check("Davies-Bouldin", abs(db - summ["davies_bouldin"]) <= 1e-6 * db,
              f"segcast {summ['davies_bouldin']:.9f} sklearn {db:.9f}")
        if summ["silhouette_sample"] >= len(Z):
            sil = silhouette_score(Z, labels)
            check("silhouette (every customer sampled)", abs(sil - summ["silhouette"]) <= 1e-9,
                  f"segcast {summ['silhouette']:.12f} sklearn {sil:.12f}")
    chosen = sel[sel["chosen"] == 1]
    check("model_selection marks one k", len(chosen) == 1 and int(chosen["k"].iloc[0]) == k, f"chosen k = {k}")
    km = KMeans(n_clusters=k, n_init=10, random_state=0).fit(Z)
    ratio = summ["inertia"] / km.inertia_
    check(f"inertia against sklearn KMeans(n_init=10), k = {k}", ratio <= 1 + tol,
          f"segcast {summ['inertia']:.6f} sklearn {km.inertia_:.6f} (ratio {ratio:.6f})")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
