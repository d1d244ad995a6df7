"""Q1: k-nearest neighbours (classifiers/k_nearest_neighbor.py): the three distance versions, the vote
with ties broken toward the smaller label, and the accuracy of k=1 on Fashion-MNIST."""
import pytest

from grader import checks
from grader.assignments.assignment1.accuracy import run_accuracy_check
from grader.assignments.assignment1.cases import PREDICT_KS, TIE_KS

pytestmark = pytest.mark.files("classifiers/k_nearest_neighbor.py")

KNN = "classifiers.k_nearest_neighbor.KNearestNeighbor"


def _knn(sb, X_train, y_train):
    knn = sb.new(f"{sb.package}.{KNN}")
    sb.call_method(knn, "train", X_train, y_train)
    return knn


def _distances(sb, ref, method):
    c = ref("Q1/distances")
    knn = _knn(sb, c["X_train"], c["y_train"])
    dists = sb.call_method(knn, method, c["X_test"])
    # 1e-4: where a distance is 0 (X_test[2] = X_train[5]) the expansion |x|^2 + |t|^2 - 2 x.t leaves the
    # square root of a rounding error, about 1e-7, judged against 1e-3 of the largest distance (about 20)
    checks.close(dists, c["dists"], f"{method}(X)", 1e-4)


def test_distances_two_loops(sb, ref):
    _distances(sb, ref, "compute_distances_two_loops")


def test_distances_one_loop(sb, ref):
    _distances(sb, ref, "compute_distances_one_loop")


def test_distances_no_loops(sb, ref):
    _distances(sb, ref, "compute_distances_no_loops")


def _labels(sb, ref, key, ks):
    c = ref(key)
    knn = _knn(sb, c["dists"][:, :1] * 0, c["y_train"])   # predict_labels only reads y_train
    for k in ks:
        pred = checks.array(sb.call_method(knn, "predict_labels", c["dists"], k=k), f"predict_labels(dists, k={k})",
                            shape=c[f"pred_k{k}"].shape)
        wrong = int((pred != c[f"pred_k{k}"]).sum())
        if wrong:
            checks.fail(f"predict_labels(dists, k={k}): {wrong} of {len(pred)} labels differ from the majority vote "
                        f"of the k nearest training points" + (" (a tie goes to the smaller label)" if k in TIE_KS else ""))


def test_predict_labels(sb, ref):
    _labels(sb, ref, "Q1/predict_labels", PREDICT_KS)


def test_predict_labels_ties(sb, ref):
    _labels(sb, ref, "Q1/predict_ties", TIE_KS)


def test_knn_accuracy(sb, ref, seed, limits):
    run_accuracy_check(sb, ref, "knn_k1", seed, limits)
