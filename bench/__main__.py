"""`make bench`: run every benchmark in this folder and print its ratios."""

from bench import kmeans_vs_sklearn

if __name__ == "__main__":
    kmeans_vs_sklearn.main()
