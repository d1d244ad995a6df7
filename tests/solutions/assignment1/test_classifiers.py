"""canonical_checks.md section 23 (knn.ipynb, svm.ipynb, softmax.ipynb), on Fashion-MNIST (5,000 training
and 500 test images, as the notebooks subsample CIFAR-10), replayed against assignment 1's solutions
(which must pass) and its starter (which must fail cleanly): the three distance versions agree, naive and
vectorized losses agree to 1e-10, the analytic gradients match numerical ones, and the classifiers
reach the accuracies the grader's thresholds were calibrated from."""
import numpy as np
import pytest

from support.checking import numerical_gradient, rel_error, verify

# ---------------------------------------------------------------------------------------------- kNN

def _knn(cs, Xtr, ytr):
    clf = cs("classifiers.k_nearest_neighbor").KNearestNeighbor()
    clf.train(Xtr, ytr)
    return clf


def test_distances_agree_small(cs):
    def check(cs):
        rng = np.random.RandomState(0)
        Xtr, Xte = rng.randn(60, 20), rng.randn(15, 20)
        Xte[3] = Xtr[7]                      # a zero distance: no NaN from a tiny negative square
        clf = _knn(cs, Xtr, rng.randint(3, size=60))
        d2 = clf.compute_distances_two_loops(Xte)
        d1 = clf.compute_distances_one_loop(Xte)
        d0 = clf.compute_distances_no_loops(Xte)
        expected = np.sqrt(((Xte[:, None, :] - Xtr[None, :, :]) ** 2).sum(axis=2))
        assert d0.shape == (15, 60)
        for d in (d2, d1, d0):
            # (near a zero distance the square root turns a rounding error of 1e-15 into 1e-7)
            assert np.all(np.isfinite(d)) and np.abs(d - expected).max() < 1e-6
    verify(cs, check)


@pytest.mark.slow
def test_distances_agree_fashion(cs, fashion):
    """knn.ipynb: two-loop, one-loop and no-loop distance matrices of 500 test x 5000 training images
    agree (Frobenius norm of the difference < 1e-3)."""
    def check(cs):
        clf = _knn(cs, fashion["X_train"], fashion["y_train"])
        d0 = clf.compute_distances_no_loops(fashion["X_test"])
        d1 = clf.compute_distances_one_loop(fashion["X_test"])
        assert d0.shape == (500, 5000) and np.linalg.norm(d0) > 0
        assert np.linalg.norm(d0 - d1, ord="fro") < 1e-3
        d2 = clf.compute_distances_two_loops(fashion["X_test"][:50])
        assert np.linalg.norm(d2 - d1[:50], ord="fro") < 1e-3
    verify(cs, check)


def test_predict_labels_ties_smaller_label(cs):
    def check(cs):
        y_train = np.array([3, 1, 3, 1, 2, 0])
        clf = _knn(cs, np.zeros((6, 2)), y_train)
        dists = np.array([[0.1, 0.2, 0.3, 0.4, 5.0, 6.0],      # k=4: two 3s, two 1s -> 1
                          [9.0, 8.0, 7.0, 0.5, 0.6, 0.7]])     # k=2: 1 and 2 -> 1; k=1: 1
        assert list(clf.predict_labels(dists, k=4)) == [1, 0]  # row 2: 1, 2, 0, 3 once each -> 0
        assert list(clf.predict_labels(dists, k=2)) == [1, 1]
        assert list(clf.predict_labels(dists, k=1)) == [3, 1]
    verify(cs, check)


@pytest.mark.slow
def test_knn_accuracy_fashion(cs, fashion):
    """knn.ipynb with k=1 and k=5 (CIFAR-10: 0.274 and 0.278; Fashion-MNIST reaches far more)."""
    def check(cs):
        clf = _knn(cs, fashion["X_train"], fashion["y_train"])
        acc = {k: float(np.mean(clf.predict(fashion["X_test"], k=k) == fashion["y_test"])) for k in (1, 5)}
        print("kNN accuracy on Fashion-MNIST 5000/500:", acc)
        assert acc[1] > 0.7 and acc[5] > 0.7
    verify(cs, check)


# ------------------------------------------------------------------------------------ SVM and softmax

LOSSES = [("classifiers.linear_svm", "svm_loss_naive", "svm_loss_vectorized"),
          ("classifiers.softmax", "softmax_loss_naive", "softmax_loss_vectorized")]


def _dev(fashion):
    """X_dev: 500 training rows with the bias column appended (the notebooks' bias trick); W as svm.ipynb
    draws it."""
    X = np.hstack([fashion["X_train_c"][:500], np.ones((500, 1))])
    W = np.random.RandomState(1).randn(X.shape[1], 10) * 0.0001
    return W, X, fashion["y_train"][:500]


@pytest.mark.parametrize("module,naive,vectorized", LOSSES, ids=["svm", "softmax"])
def test_naive_equals_vectorized(cs, fashion, module, naive, vectorized):
    def check(cs):
        W, X, y = _dev(fashion)
        mod = cs(module)
        for reg in (0.0, 5e-6, 1e3):
            loss_n, grad_n = getattr(mod, naive)(W, X, y, reg)
            loss_v, grad_v = getattr(mod, vectorized)(W, X, y, reg)
            assert abs(loss_n - loss_v) < 1e-10 * max(1.0, abs(loss_n))
            assert np.linalg.norm(grad_n - grad_v, ord="fro") < 1e-10 * max(1.0, np.linalg.norm(grad_n))
            assert np.linalg.norm(grad_n) > 0
    verify(cs, check)


def test_initial_losses(cs, fashion):
    """svm.ipynb: the loss of a small random W is about 9 (C - 1 margins of about 1); softmax.ipynb:
    close to -log(0.1)."""
    def check(cs):
        W, X, y = _dev(fashion)
        svm, _ = cs("classifiers.linear_svm").svm_loss_vectorized(W, X, y, 5e-6)
        sm, _ = cs("classifiers.softmax").softmax_loss_vectorized(W, X, y, 0.0)
        assert 8.0 < svm < 10.0
        assert abs(sm - (-np.log(0.1))) < 0.15
    verify(cs, check)


@pytest.mark.parametrize("module,naive,vectorized", LOSSES, ids=["svm", "softmax"])
def test_gradient_check(cs, module, naive, vectorized):
    """grad_check_sparse of the notebooks, at reg 0 and 5e1, on every coordinate of a small problem."""
    def check(cs):
        rng = np.random.RandomState(3)
        X, y = rng.randn(30, 8), rng.randint(4, size=30)
        W = 0.5 * rng.randn(8, 4)
        for fn in (naive, vectorized):
            f = getattr(cs(module), fn)
            for reg in (0.0, 5e1):
                loss, grad = f(W, X, y, reg)
                assert loss > 0 and np.abs(grad).sum() > 0
                num = numerical_gradient(lambda: f(W, X, y, reg)[0], W)
                assert rel_error(num, grad) < 1e-7, (fn, reg)
    verify(cs, check)


def test_svm_margin_at_zero(cs):
    """A margin of exactly 0 adds nothing to the loss, nor to the gradient, in both versions."""
    def check(cs):
        X = np.array([[1.0, 0.0], [0.0, 1.0]])
        W = np.array([[1.0, 0.0], [0.0, 1.0]])      # scores: correct 1, other 0 -> margin 0
        y = np.array([0, 1])
        mod = cs("classifiers.linear_svm")
        for fn in (mod.svm_loss_naive, mod.svm_loss_vectorized):
            loss, dW = fn(W, X, y, 0.0)
            assert loss == 0.0 and np.all(dW == 0)
        loss, dW = mod.svm_loss_vectorized(W, X, np.array([1, 0]), 0.0)
        assert loss == 2.0 and np.abs(dW).sum() > 0
    verify(cs, check)


# --------------------------------------------------------------------------------- linear classifiers

@pytest.mark.slow
@pytest.mark.parametrize("cls,lr,reg", [("LinearSVM", 1e-7, 2.5e4), ("Softmax", 1e-7, 2.5e4)])
def test_linear_classifier_accuracy(cs, fashion, cls, lr, reg):
    """svm.ipynb / softmax.ipynb's first training run (1,500 iterations of batch 200) on the 5,000
    Fashion-MNIST rows; the loss falls and the test accuracy is far above chance."""
    def check(cs):
        X = np.hstack([fashion["X_train_c"], np.ones((5000, 1))])
        Xte = np.hstack([fashion["X_test_c"], np.ones((500, 1))])
        np.random.seed(0)
        clf = getattr(cs("classifiers.linear_classifier"), cls)()
        history = clf.train(X, fashion["y_train"], learning_rate=lr, reg=reg, num_iters=1500, batch_size=200)
        assert len(history) == 1500 and np.mean(history[-50:]) < 0.5 * np.mean(history[:10])
        acc = float(np.mean(clf.predict(Xte) == fashion["y_test"]))
        print(cls, "test accuracy on Fashion-MNIST 5000/500:", acc)
        assert acc > 0.6     # chance: 0.1
    verify(cs, check)


def test_sgd_step_and_predict(cs):
    """One SGD step on identical rows is exactly W - lr * grad, whatever rows are sampled; predict is the
    argmax of X W."""
    def check(cs):
        lc = cs("classifiers.linear_classifier")
        sm = cs("classifiers.softmax")
        X = np.tile(np.array([[0.5, -1.0, 2.0]]), (20, 1))
        y = np.full(20, 2)
        clf = lc.Softmax()
        clf.W = W0 = np.array([[0.1, -0.2, 0.3], [0.0, 0.4, -0.1], [0.2, 0.1, 0.0]])
        W0 = W0.copy()
        history = clf.train(X, y, learning_rate=0.3, reg=0.1, num_iters=1, batch_size=5)
        _, grad = sm.softmax_loss_vectorized(W0, X[:5], y[:5], 0.1)
        assert len(history) == 1 and np.allclose(clf.W, W0 - 0.3 * grad, rtol=0, atol=1e-12)
        Xp = np.random.RandomState(0).randn(7, 3)
        assert np.array_equal(np.asarray(clf.predict(Xp)), np.argmax(Xp.dot(clf.W), axis=1))
    verify(cs, check)
