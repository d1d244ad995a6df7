"""The canonical checks of the fully-connected part (canonical_checks.md sections 1-7 and 9-15),
replayed against the solutions, which must pass every one of them, and against the generated
starter, which must fail every one of them cleanly (an ordinary exception or a false condition,
never a crash of the test run).

Tolerances: the notebooks' wording "around e-N (or less)" / "on the order of e-N" is taken as
"< 10^(1-N)", one order of magnitude of headroom above the quoted order; where the canonical text
quotes an exact value (losses) the check is on that value itself.
"""
import numpy as np
import pytest

from support.checking import passes, rel_error, verify  # noqa: F401

# --------------------------------------------------------------------------------------------
# 1-5: affine, relu, affine_relu
# --------------------------------------------------------------------------------------------

def test_affine_forward(cs):
    def check(cs):
        layers = cs("layers")
        num_inputs, input_shape, output_dim = 2, (4, 5, 6), 3
        input_size = num_inputs * np.prod(input_shape)
        weight_size = output_dim * np.prod(input_shape)
        x = np.linspace(-0.1, 0.5, num=input_size).reshape(num_inputs, *input_shape)
        w = np.linspace(-0.2, 0.3, num=weight_size).reshape(np.prod(input_shape), output_dim)
        b = np.linspace(-0.3, 0.1, num=output_dim)
        out, _ = layers.affine_forward(x, w, b)
        correct_out = np.array([[1.49834967, 1.70660132, 1.91485297],
                                [3.25553199, 3.5141327, 3.77273342]])
        assert rel_error(out, correct_out) < 1e-8
    verify(cs, check)


def test_affine_backward(cs, gc):
    def check(cs):
        layers = cs("layers")
        np.random.seed(231)
        x = np.random.randn(10, 2, 3)
        w = np.random.randn(6, 5)
        b = np.random.randn(5)
        dout = np.random.randn(10, 5)
        dx_num = gc.eval_numerical_gradient_array(lambda x: layers.affine_forward(x, w, b)[0], x, dout)
        dw_num = gc.eval_numerical_gradient_array(lambda w: layers.affine_forward(x, w, b)[0], w, dout)
        db_num = gc.eval_numerical_gradient_array(lambda b: layers.affine_forward(x, w, b)[0], b, dout)
        _, cache = layers.affine_forward(x, w, b)
        dx, dw, db = layers.affine_backward(dout, cache)
        assert rel_error(dx_num, dx) < 1e-9
        assert rel_error(dw_num, dw) < 1e-9
        assert rel_error(db_num, db) < 1e-9
    verify(cs, check)


def test_relu_forward(cs):
    def check(cs):
        x = np.linspace(-0.5, 0.5, num=12).reshape(3, 4)
        out, _ = cs("layers").relu_forward(x)
        correct_out = np.array([[0., 0., 0., 0.],
                                [0., 0., 0.04545455, 0.13636364],
                                [0.22727273, 0.31818182, 0.40909091, 0.5]])
        assert rel_error(out, correct_out) < 1e-7
    verify(cs, check)


def test_relu_backward(cs, gc):
    def check(cs):
        layers = cs("layers")
        np.random.seed(231)
        x = np.random.randn(10, 10)
        dout = np.random.randn(*x.shape)
        dx_num = gc.eval_numerical_gradient_array(lambda x: layers.relu_forward(x)[0], x, dout)
        _, cache = layers.relu_forward(x)
        dx = layers.relu_backward(dout, cache)
        assert rel_error(dx_num, dx) < 1e-11
    verify(cs, check)


def test_affine_relu_sandwich(cs, gc):
    def check(cs):
        lu = cs("layer_utils")
        np.random.seed(231)
        x = np.random.randn(2, 3, 4)
        w = np.random.randn(12, 10)
        b = np.random.randn(10)
        dout = np.random.randn(2, 10)
        _, cache = lu.affine_relu_forward(x, w, b)
        dx, dw, db = lu.affine_relu_backward(dout, cache)
        dx_num = gc.eval_numerical_gradient_array(lambda x: lu.affine_relu_forward(x, w, b)[0], x, dout)
        dw_num = gc.eval_numerical_gradient_array(lambda w: lu.affine_relu_forward(x, w, b)[0], w, dout)
        db_num = gc.eval_numerical_gradient_array(lambda b: lu.affine_relu_forward(x, w, b)[0], b, dout)
        assert rel_error(dx_num, dx) < 1e-9
        assert rel_error(dw_num, dw) < 1e-9
        assert rel_error(db_num, db) < 1e-9
    verify(cs, check)


# --------------------------------------------------------------------------------------------
# 6: svm_loss / softmax_loss
# --------------------------------------------------------------------------------------------

def _loss_inputs():
    np.random.seed(231)
    num_classes, num_inputs = 10, 50
    x = 0.001 * np.random.randn(num_inputs, num_classes)
    y = np.random.randint(num_classes, size=num_inputs)
    return x, y


def test_softmax_loss(cs, gc):
    def check(cs):
        layers = cs("layers")
        x, y = _loss_inputs()
        dx_num = gc.eval_numerical_gradient(lambda x: layers.softmax_loss(x, y)[0], x, verbose=False)
        loss, dx = layers.softmax_loss(x, y)
        assert abs(loss - 2.302545844500738) < 1e-10, loss
        assert rel_error(dx_num, dx) < 1e-7
    verify(cs, check)


def test_svm_loss(cs, gc):
    # The notebook: "Loss should be around 9 and dx error should be around the order of e-9".
    def check(cs):
        layers = cs("layers")
        x, y = _loss_inputs()
        dx_num = gc.eval_numerical_gradient(lambda x: layers.svm_loss(x, y)[0], x, verbose=False)
        loss, dx = layers.svm_loss(x, y)
        assert abs(loss - 9.0) < 0.01, loss
        assert rel_error(dx_num, dx) < 1e-8
    verify(cs, check)


# --------------------------------------------------------------------------------------------
# 7: TwoLayerNet
# --------------------------------------------------------------------------------------------

def _two_layer_net_with_canonical_params(cs):
    fc_net = cs("classifiers.fc_net")
    np.random.seed(231)
    N, D, H, C = 3, 5, 50, 7
    X = np.random.randn(N, D)
    y = np.random.randint(C, size=N)
    model = fc_net.TwoLayerNet(input_dim=D, hidden_dim=H, num_classes=C, weight_scale=1e-3)
    return model, X, y


def test_two_layer_net_init(cs):
    def check(cs):
        model, _, _ = _two_layer_net_with_canonical_params(cs)
        W1_std = abs(model.params["W1"].std() - 1e-3)
        W2_std = abs(model.params["W2"].std() - 1e-3)
        assert W1_std < 1e-4 and W2_std < 1e-4
        assert np.all(model.params["b1"] == 0) and np.all(model.params["b2"] == 0)
        assert model.params["W1"].shape == (5, 50) and model.params["b2"].shape == (7,)
    verify(cs, check)


def _set_canonical_params(model):
    N, D, H, C = 3, 5, 50, 7
    model.params["W1"] = np.linspace(-0.7, 0.3, num=D * H).reshape(D, H)
    model.params["b1"] = np.linspace(-0.1, 0.9, num=H)
    model.params["W2"] = np.linspace(-0.3, 0.4, num=H * C).reshape(H, C)
    model.params["b2"] = np.linspace(-0.9, 0.1, num=C)
    return np.linspace(-5.5, 4.5, num=N * D).reshape(D, N).T


def test_two_layer_net_scores_and_losses(cs):
    def check(cs):
        model, _, _ = _two_layer_net_with_canonical_params(cs)
        X = _set_canonical_params(model)
        scores = model.loss(X)
        correct_scores = np.asarray(
            [[11.53165108, 12.2917344, 13.05181771, 13.81190102, 14.57198434, 15.33206765, 16.09215096],
             [12.05769098, 12.74614105, 13.43459113, 14.1230412, 14.81149128, 15.49994135, 16.18839143],
             [12.58373087, 13.20054771, 13.81736455, 14.43418138, 15.05099822, 15.66781506, 16.2846319]])
        assert np.abs(scores - correct_scores).sum() < 1e-6
        y = np.asarray([0, 5, 1])
        loss, _ = model.loss(X, y)
        assert abs(loss - 3.4702243556) < 1e-10, loss
        model.reg = 1.0
        loss, _ = model.loss(X, y)
        assert abs(loss - 26.5948426952) < 1e-10, loss
    verify(cs, check)


def test_two_layer_net_gradients(cs, gc):
    # "Errors should be around e-7 or less"
    def check(cs):
        model, _, _ = _two_layer_net_with_canonical_params(cs)
        X = _set_canonical_params(model)
        y = np.asarray([0, 5, 1])
        for reg in [0.0, 0.7]:
            model.reg = reg
            loss, grads = model.loss(X, y)
            assert sorted(grads) == ["W1", "W2", "b1", "b2"]
            for name in sorted(grads):
                f = lambda _: model.loss(X, y)[0]  # noqa: E731
                grad_num = gc.eval_numerical_gradient(f, model.params[name], verbose=False)
                assert rel_error(grad_num, grads[name]) < 1e-6, (reg, name)
    verify(cs, check)


# --------------------------------------------------------------------------------------------
# 9, 13 (FC net part), 15 (FC net part): FullyConnectedNet
# --------------------------------------------------------------------------------------------

def _fc_inputs():
    np.random.seed(231)
    N, D, H1, H2, C = 2, 15, 20, 30, 10
    X = np.random.randn(N, D)
    y = np.random.randint(C, size=(N,))
    return X, y, (D, H1, H2, C)


def _grad_errors(gc, model, X, y):
    loss, grads = model.loss(X, y)
    errors = {}
    for name in sorted(grads):
        f = lambda _: model.loss(X, y)[0]  # noqa: E731
        grad_num = gc.eval_numerical_gradient(f, model.params[name], verbose=False, h=1e-5)
        errors[name] = (rel_error(grad_num, grads[name]), grad_num, grads[name])
    return loss, errors


def test_fc_net_initial_loss_and_gradients(cs, gc):
    # "Most of the errors should be on the order of e-7 or smaller. NOTE: It is fine however to
    # see an error for W2 on the order of e-5 for the check when reg = 0.0"
    def check(cs):
        fc_net = cs("classifiers.fc_net")
        X, y, (D, H1, H2, C) = _fc_inputs()
        for reg, correct_loss in [(0, 2.3004790897684924), (3.14, 7.052114776533016)]:
            model = fc_net.FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, reg=reg,
                                             weight_scale=5e-2, dtype=np.float64)
            loss, errors = _grad_errors(gc, model, X, y)
            assert abs(loss - correct_loss) < 1e-10, (reg, loss)
            assert sorted(errors) == ["W1", "W2", "W3", "b1", "b2", "b3"]
            for name, (err, _, _) in errors.items():
                limit = 1e-4 if (reg == 0 and name == "W2") else 1e-6
                assert err < limit, (reg, name, err)
    verify(cs, check)


def test_fc_net_batchnorm_initial_loss_and_gradients(cs, gc):
    # "losses between 1e-4~1e-10 for W, 1e-08~1e-10 for b, 1e-08~1e-09 for beta and gammas".
    # With N = 2 the hidden biases sit right before a batchnorm layer, so their true gradient is
    # exactly zero: for b1 and b2 both gradients must be ~0 (absolute), not relatively close.
    # W1's gradient nearly vanishes too (errors ~1e-4 at reg 0), hence the 1e-3 bound for W.
    def check(cs):
        fc_net = cs("classifiers.fc_net")
        X, y, (D, H1, H2, C) = _fc_inputs()
        for reg, correct_loss in [(0, 2.2611955101340957), (3.14, 6.996533220108303)]:
            model = fc_net.FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, reg=reg,
                                             weight_scale=5e-2, dtype=np.float64,
                                             normalization="batchnorm")
            loss, errors = _grad_errors(gc, model, X, y)
            assert abs(loss - correct_loss) < 1e-10, (reg, loss)
            assert sorted(errors) == ["W1", "W2", "W3", "b1", "b2", "b3",
                                      "beta1", "beta2", "gamma1", "gamma2"]
            for name, (err, num, ana) in errors.items():
                if name in ("b1", "b2"):
                    assert np.abs(num).max() < 1e-8 and np.abs(ana).max() < 1e-8, (reg, name)
                elif name.startswith("W"):
                    assert err < 1e-3, (reg, name, err)
                else:
                    assert err < 1e-7, (reg, name, err)
    verify(cs, check)


def test_fc_net_dropout_gradients(cs, gc):
    # "Relative errors should be around e-6 or less; ... fine if for dropout=1 you have W2 error
    # be on the order of e-5"
    def check(cs):
        fc_net = cs("classifiers.fc_net")
        X, y, (D, H1, H2, C) = _fc_inputs()
        for keep in [1, 0.75, 0.5]:
            model = fc_net.FullyConnectedNet([H1, H2], input_dim=D, num_classes=C,
                                             weight_scale=5e-2, dtype=np.float64, dropout=keep,
                                             seed=123)
            loss, errors = _grad_errors(gc, model, X, y)
            if keep == 1:
                assert abs(loss - 2.3004790897684924) < 1e-10, loss
            assert sorted(errors) == ["W1", "W2", "W3", "b1", "b2", "b3"]
            for name, (err, _, _) in errors.items():
                limit = 1e-4 if (keep == 1 and name == "W2") else 1e-5
                assert err < limit, (keep, name, err)
    verify(cs, check)


# --------------------------------------------------------------------------------------------
# 10-12: update rules
# --------------------------------------------------------------------------------------------

N_OPT, D_OPT = 4, 5


def _opt_inputs():
    w = np.linspace(-0.4, 0.6, num=N_OPT * D_OPT).reshape(N_OPT, D_OPT)
    dw = np.linspace(-0.6, 0.4, num=N_OPT * D_OPT).reshape(N_OPT, D_OPT)
    return w, dw


def test_sgd_momentum(cs):
    def check(cs):
        w, dw = _opt_inputs()
        v = np.linspace(0.6, 0.9, num=N_OPT * D_OPT).reshape(N_OPT, D_OPT)
        config = {"learning_rate": 1e-3, "velocity": v}
        next_w, _ = cs("optim").sgd_momentum(w, dw, config=config)
        expected_next_w = np.asarray([
            [0.1406, 0.20738947, 0.27417895, 0.34096842, 0.40775789],
            [0.47454737, 0.54133684, 0.60812632, 0.67491579, 0.74170526],
            [0.80849474, 0.87528421, 0.94207368, 1.00886316, 1.07565263],
            [1.14244211, 1.20923158, 1.27602105, 1.34281053, 1.4096]])
        expected_velocity = np.asarray([
            [0.5406, 0.55475789, 0.56891579, 0.58307368, 0.59723158],
            [0.61138947, 0.62554737, 0.63970526, 0.65386316, 0.66802105],
            [0.68217895, 0.69633684, 0.71049474, 0.72465263, 0.73881053],
            [0.75296842, 0.76712632, 0.78128421, 0.79544211, 0.8096]])
        assert rel_error(next_w, expected_next_w) < 1e-7
        assert rel_error(expected_velocity, config["velocity"]) < 1e-7
    verify(cs, check)


def test_rmsprop(cs):
    # The notebook: "You should see relative errors around e-7 or less"
    def check(cs):
        w, dw = _opt_inputs()
        cache = np.linspace(0.6, 0.9, num=N_OPT * D_OPT).reshape(N_OPT, D_OPT)
        config = {"learning_rate": 1e-2, "cache": cache}
        next_w, _ = cs("optim").rmsprop(w, dw, config=config)
        expected_next_w = np.asarray([
            [-0.39223849, -0.34037513, -0.28849239, -0.23659121, -0.18467247],
            [-0.132737, -0.08078555, -0.02881884, 0.02316247, 0.07515774],
            [0.12716641, 0.17918792, 0.23122175, 0.28326742, 0.33532447],
            [0.38739248, 0.43947102, 0.49155973, 0.54365823, 0.59576619]])
        expected_cache = np.asarray([
            [0.5976, 0.6126277, 0.6277108, 0.64284931, 0.65804321],
            [0.67329252, 0.68859723, 0.70395734, 0.71937285, 0.73484377],
            [0.75037008, 0.7659518, 0.78158892, 0.79728144, 0.81302936],
            [0.82883269, 0.84469141, 0.86060554, 0.87657507, 0.8926]])
        assert rel_error(expected_next_w, next_w) < 1e-6
        assert rel_error(expected_cache, config["cache"]) < 1e-6
    verify(cs, check)


def test_adam(cs):
    # "relative errors around e-7 or less"; t must be incremented (to 6) before bias correction.
    def check(cs):
        w, dw = _opt_inputs()
        m = np.linspace(0.6, 0.9, num=N_OPT * D_OPT).reshape(N_OPT, D_OPT)
        v = np.linspace(0.7, 0.5, num=N_OPT * D_OPT).reshape(N_OPT, D_OPT)
        config = {"learning_rate": 1e-2, "m": m, "v": v, "t": 5}
        next_w, _ = cs("optim").adam(w, dw, config=config)
        expected_next_w = np.asarray([
            [-0.40094747, -0.34836187, -0.29577703, -0.24319299, -0.19060977],
            [-0.1380274, -0.08544591, -0.03286534, 0.01971428, 0.0722929],
            [0.1248705, 0.17744702, 0.23002243, 0.28259667, 0.33516969],
            [0.38774145, 0.44031188, 0.49288093, 0.54544852, 0.59801459]])
        expected_v = np.asarray([
            [0.69966, 0.68908382, 0.67851319, 0.66794809, 0.65738853],
            [0.64683452, 0.63628604, 0.6257431, 0.61520571, 0.60467385],
            [0.59414753, 0.58362676, 0.57311152, 0.56260183, 0.55209767],
            [0.54159906, 0.53110598, 0.52061845, 0.51013645, 0.49966]])
        expected_m = np.asarray([
            [0.48, 0.49947368, 0.51894737, 0.53842105, 0.55789474],
            [0.57736842, 0.59684211, 0.61631579, 0.63578947, 0.65526316],
            [0.67473684, 0.69421053, 0.71368421, 0.73315789, 0.75263158],
            [0.77210526, 0.79157895, 0.81105263, 0.83052632, 0.85]])
        assert rel_error(expected_next_w, next_w) < 1e-6
        assert rel_error(expected_v, config["v"]) < 1e-6
        assert rel_error(expected_m, config["m"]) < 1e-6
        assert config["t"] == 6
    verify(cs, check)


# --------------------------------------------------------------------------------------------
# 13: batchnorm
# --------------------------------------------------------------------------------------------

def test_batchnorm_forward_train(cs):
    def check(cs):
        layers = cs("layers")
        np.random.seed(231)
        N, D1, D2, D3 = 200, 50, 60, 3
        X = np.random.randn(N, D1)
        W1 = np.random.randn(D1, D2)
        W2 = np.random.randn(D2, D3)
        a = np.maximum(0, X.dot(W1)).dot(W2)
        np.testing.assert_allclose(a.mean(axis=0), [-2.3814598, -13.18038246, 1.91780462], atol=1e-7)
        np.testing.assert_allclose(a.std(axis=0), [27.18502186, 34.21455511, 37.68611762], atol=1e-7)
        # gamma = 1, beta = 0: "Means should be close to zero and stds close to one"
        a_norm, _ = layers.batchnorm_forward(a, np.ones(D3), np.zeros(D3), {"mode": "train"})
        assert np.abs(a_norm.mean(axis=0)).max() < 1e-12
        np.testing.assert_allclose(a_norm.std(axis=0), [0.99999999, 1., 1.], atol=1e-8)
        # "means close to beta and stds close to gamma"
        gamma, beta = np.asarray([1.0, 2.0, 3.0]), np.asarray([11.0, 12.0, 13.0])
        a_norm, _ = layers.batchnorm_forward(a, gamma, beta, {"mode": "train"})
        np.testing.assert_allclose(a_norm.mean(axis=0), [11, 12, 13], atol=1e-11)
        np.testing.assert_allclose(a_norm.std(axis=0), [0.99999999, 1.99999999, 2.99999999], atol=1e-8)
    verify(cs, check)


def test_batchnorm_forward_test_mode(cs):
    def check(cs):
        layers = cs("layers")
        np.random.seed(231)
        N, D1, D2, D3 = 200, 50, 60, 3
        W1 = np.random.randn(D1, D2)
        W2 = np.random.randn(D2, D3)
        bn_param = {"mode": "train"}
        gamma, beta = np.ones(D3), np.zeros(D3)
        for _ in range(50):
            X = np.random.randn(N, D1)
            a = np.maximum(0, X.dot(W1)).dot(W2)
            layers.batchnorm_forward(a, gamma, beta, bn_param)
        bn_param["mode"] = "test"
        X = np.random.randn(N, D1)
        a = np.maximum(0, X.dot(W1)).dot(W2)
        a_norm, _ = layers.batchnorm_forward(a, gamma, beta, bn_param)
        np.testing.assert_allclose(a_norm.mean(axis=0), [-0.03927354, -0.04349152, -0.10452688],
                                   atol=1e-8)
        np.testing.assert_allclose(a_norm.std(axis=0), [1.01531428, 1.01238373, 0.97819988], atol=1e-8)
    verify(cs, check)


def _norm_backward_inputs(N, D):
    np.random.seed(231)
    x = 5 * np.random.randn(N, D) + 12
    gamma = np.random.randn(D)
    beta = np.random.randn(D)
    dout = np.random.randn(N, D)
    return x, gamma, beta, dout


def test_batchnorm_backward(cs, gc):
    # "relative errors between 1e-13 and 1e-8"
    def check(cs):
        layers = cs("layers")
        x, gamma, beta, dout = _norm_backward_inputs(4, 5)
        bn_param = {"mode": "train"}
        fx = lambda x: layers.batchnorm_forward(x, gamma, beta, bn_param)[0]  # noqa: E731
        fg = lambda a: layers.batchnorm_forward(x, a, beta, bn_param)[0]  # noqa: E731
        fb = lambda b: layers.batchnorm_forward(x, gamma, b, bn_param)[0]  # noqa: E731
        dx_num = gc.eval_numerical_gradient_array(fx, x, dout)
        da_num = gc.eval_numerical_gradient_array(fg, gamma.copy(), dout)
        db_num = gc.eval_numerical_gradient_array(fb, beta.copy(), dout)
        _, cache = layers.batchnorm_forward(x, gamma, beta, bn_param)
        dx, dgamma, dbeta = layers.batchnorm_backward(dout, cache)
        assert rel_error(dx_num, dx) < 1e-8
        assert rel_error(da_num, dgamma) < 1e-8
        assert rel_error(db_num, dbeta) < 1e-8
    verify(cs, check)


def test_batchnorm_backward_alt(cs):
    # Observed: dx difference ~6e-13, dgamma and dbeta 0.0.
    def check(cs):
        layers = cs("layers")
        x, gamma, beta, dout = _norm_backward_inputs(100, 500)
        bn_param = {"mode": "train"}
        _, cache = layers.batchnorm_forward(x, gamma, beta, bn_param)
        dx1, dgamma1, dbeta1 = layers.batchnorm_backward(dout, cache)
        dx2, dgamma2, dbeta2 = layers.batchnorm_backward_alt(dout, cache)
        assert rel_error(dx1, dx2) < 1e-10
        assert rel_error(dgamma1, dgamma2) < 1e-12
        assert rel_error(dbeta1, dbeta2) < 1e-12
    verify(cs, check)


# --------------------------------------------------------------------------------------------
# 14: layernorm
# --------------------------------------------------------------------------------------------

def test_layernorm_forward(cs):
    def check(cs):
        layers = cs("layers")
        np.random.seed(231)
        N, D1, D2, D3 = 4, 50, 60, 3
        X = np.random.randn(N, D1)
        W1 = np.random.randn(D1, D2)
        W2 = np.random.randn(D2, D3)
        a = np.maximum(0, X.dot(W1)).dot(W2)
        np.testing.assert_allclose(a.mean(axis=1), [-59.06673243, -47.60782686, -43.31137368,
                                                    -26.40991744], atol=1e-7)
        np.testing.assert_allclose(a.std(axis=1), [10.07429373, 28.39478981, 35.28360729,
                                                   4.01831507], atol=1e-7)
        a_norm, _ = layers.layernorm_forward(a, np.ones(D3), np.zeros(D3), {})
        assert np.abs(a_norm.mean(axis=1)).max() < 1e-12
        np.testing.assert_allclose(a_norm.std(axis=1), [0.99999995, 0.99999999, 1., 0.99999969],
                                   atol=1e-8)
        gamma, beta = np.asarray([3.0, 3.0, 3.0]), np.asarray([5.0, 5.0, 5.0])
        a_norm, _ = layers.layernorm_forward(a, gamma, beta, {})
        np.testing.assert_allclose(a_norm.mean(axis=1), [5, 5, 5, 5], atol=1e-11)
        np.testing.assert_allclose(a_norm.std(axis=1), [2.99999985, 2.99999998, 2.99999999,
                                                        2.99999907], atol=1e-8)
    verify(cs, check)


def test_layernorm_backward(cs, gc):
    # "between 1e-12 and 1e-8"
    def check(cs):
        layers = cs("layers")
        x, gamma, beta, dout = _norm_backward_inputs(4, 5)
        ln_param = {}
        fx = lambda x: layers.layernorm_forward(x, gamma, beta, ln_param)[0]  # noqa: E731
        fg = lambda a: layers.layernorm_forward(x, a, beta, ln_param)[0]  # noqa: E731
        fb = lambda b: layers.layernorm_forward(x, gamma, b, ln_param)[0]  # noqa: E731
        dx_num = gc.eval_numerical_gradient_array(fx, x, dout)
        da_num = gc.eval_numerical_gradient_array(fg, gamma.copy(), dout)
        db_num = gc.eval_numerical_gradient_array(fb, beta.copy(), dout)
        _, cache = layers.layernorm_forward(x, gamma, beta, ln_param)
        dx, dgamma, dbeta = layers.layernorm_backward(dout, cache)
        assert rel_error(dx_num, dx) < 1e-8
        assert rel_error(da_num, dgamma) < 1e-8
        assert rel_error(db_num, dbeta) < 1e-8
    verify(cs, check)


# --------------------------------------------------------------------------------------------
# 15: dropout (p = KEEP probability, inverted dropout)
# --------------------------------------------------------------------------------------------

def test_dropout_forward(cs):
    # Graded by statistics: fraction zeroed ~ 1 - p, mean ~ 10 in train mode; identity in test.
    def check(cs):
        layers = cs("layers")
        np.random.seed(231)
        x = np.random.randn(500, 500) + 10
        assert abs(x.mean() - 10.000207878477502) < 1e-12
        for p in [0.25, 0.4, 0.7]:
            out, _ = layers.dropout_forward(x, {"mode": "train", "p": p})
            out_test, _ = layers.dropout_forward(x, {"mode": "test", "p": p})
            assert out.shape == x.shape
            assert abs((out == 0).mean() - (1 - p)) < 0.005, (p, (out == 0).mean())
            assert abs(out.mean() - 10) < 0.05, (p, out.mean())
            kept = out != 0
            np.testing.assert_allclose(out[kept], x[kept] / p, rtol=1e-12)
            assert np.array_equal(out_test, x)
    verify(cs, check)


def test_dropout_backward(cs, gc):
    # "around e-10 or less"
    def check(cs):
        layers = cs("layers")
        np.random.seed(231)
        x = np.random.randn(10, 10) + 10
        dout = np.random.randn(*x.shape)
        dropout_param = {"mode": "train", "p": 0.2, "seed": 123}
        _, cache = layers.dropout_forward(x, dropout_param)
        dx = layers.dropout_backward(dout, cache)
        dx_num = gc.eval_numerical_gradient_array(
            lambda xx: layers.dropout_forward(xx, dropout_param)[0], x, dout)
        assert rel_error(dx, dx_num) < 1e-9
        # p is the keep probability: about 20% of the units pass
        assert 0 < np.count_nonzero(dx) < 50
    verify(cs, check)
