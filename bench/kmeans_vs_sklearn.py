"""LiveGrad's readable k-means against scikit-learn's KMeans on the same points.

Prints wall-clock medians and the ratio (ours / scikit-learn); also the inertia ratio,
so speed is never bought with worse clusterings.
"""

from __future__ import annotations

from functools import partial

import torch
from sklearn.cluster import KMeans

from app.ml.datasets import make_dataset
from app.ml.kmeans import kmeans
from bench._timing import median_seconds


def main() -> None:
    torch.set_num_threads(1)
    print("k-means: LiveGrad (torch) vs scikit-learn, 1 thread, n_init=10")
    print(f"{'dataset':<12} {'n':>5} {'k':>3} {'ours s':>8} {'sklearn s':>9} "
          f"{'time ratio':>10} {'inertia ratio':>13}")
    for name, n, k in [("blobs", 2000, 4), ("uniform", 2000, 8), ("moons", 500, 2)]:
        points = make_dataset(name, n, torch.Generator().manual_seed(0))
        array = points.double().numpy()
        ours = median_seconds(partial(kmeans, points, k, n_init=10, seed=0))
        reference = KMeans(n_clusters=k, n_init=10, random_state=0)
        theirs = median_seconds(partial(reference.fit, array))
        inertia_ratio = kmeans(points, k, n_init=10, seed=0).inertia / reference.inertia_
        print(f"{name:<12} {n:>5} {k:>3} {ours:>8.4f} {theirs:>9.4f} "
              f"{ours / theirs:>10.2f} {inertia_ratio:>13.4f}")


if __name__ == "__main__":
    main()
