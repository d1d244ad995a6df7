"""Fully-connected neural networks with a modular design, trained with softmax loss."""
import numpy as np

from ..layer_utils import *  # noqa: F401,F403
from ..layer_utils import (affine_backward, affine_forward, affine_norm_relu_backward,
                           affine_norm_relu_forward, affine_relu_backward, affine_relu_forward,
                           norm_relu_dropout_backward, softmax_loss)
from ..layers import *  # noqa: F401,F403

# No __all__: as in the classic package, `from cs231n.classifiers.fc_net import *` also brings in
# the layer functions, which the notebooks rely on.


def weight_std(weight_scale, fan_in, fan_out):
    """Standard deviation of the initial weights of a layer with the given fan-in and fan-out.

    Inputs:
    - weight_scale: A float (used as the standard deviation itself), or one of the strings
      - 'he': sqrt(2 / fan_in), suited to ReLU layers (He et al., 2015);
      - 'xavier': sqrt(2 / (fan_in + fan_out)), the Glorot and Bengio (2010) normalized
        initialisation.
    - fan_in, fan_out: Input and output dimensions of the layer (integers)

    Returns: the standard deviation, a float.
    """
    if isinstance(weight_scale, str):
        if weight_scale == "he":
            return float(np.sqrt(2.0 / fan_in))
        if weight_scale == "xavier":
            return float(np.sqrt(2.0 / (fan_in + fan_out)))
        raise ValueError('Unknown weight_scale "%s" (expected a float, "he" or "xavier")' % weight_scale)
    return float(weight_scale)


class TwoLayerNet(object):
    """A two-layer fully-connected neural network with ReLU nonlinearity and softmax loss that uses
    a modular layer design. We assume an input dimension of D, a hidden dimension of H, and perform
    classification over C classes.

    The architecure should be affine - relu - affine - softmax.

    Note that this class does not implement gradient descent; instead, it will interact with a
    separate Solver object that is responsible for running optimization.

    The learnable parameters of the model are stored in the dictionary self.params that maps
    parameter names to numpy arrays.
    """

    def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10, weight_scale=1e-3,
                 reg=0.0):
        """Initialize a new network.

        Inputs:
        - input_dim: An integer giving the size of the input
        - hidden_dim: An integer giving the size of the hidden layer
        - num_classes: An integer giving the number of classes to classify
        - weight_scale: Scalar giving the standard deviation for random initialization of the
          weights ('he' or 'xavier' are also accepted, see weight_std).
        - reg: Scalar giving L2 regularization strength.
        """
        self.params = {}
        self.reg = reg

        ############################################################################
        # TODO: Initialize the weights and biases of the two-layer net. Weights    #
        # should be initialized from a Gaussian centered at 0.0 with standard      #
        # deviation equal to weight_scale, and biases should be initialized to     #
        # zero. All weights and biases should be stored in the dictionary          #
        # self.params, with first layer weights and biases using the keys 'W1'     #
        # and 'b1' and second layer weights and biases using the keys 'W2' and     #
        # 'b2'.                                                                    #
        ############################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        dims = [input_dim, hidden_dim, num_classes]
        for i in range(2):
            std = weight_std(weight_scale, dims[i], dims[i + 1])
            self.params["W%d" % (i + 1)] = std * np.random.randn(dims[i], dims[i + 1])
            self.params["b%d" % (i + 1)] = np.zeros(dims[i + 1])
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        ############################################################################
        #                             END OF YOUR CODE                             #
        ############################################################################

    def loss(self, X, y=None):
        """Compute loss and gradient for a minibatch of data.

        Inputs:
        - X: Array of input data of shape (N, d_1, ..., d_k)
        - y: Array of labels, of shape (N,). y[i] gives the label for X[i].

        Returns:
        If y is None, then run a test-time forward pass of the model and return:
        - scores: Array of shape (N, C) giving classification scores, where scores[i, c] is the
          classification score for X[i] and class c.

        If y is not None, then run a training-time forward and backward pass and return a tuple
        of:
        - loss: Scalar value giving the loss
        - grads: Dictionary with the same keys as self.params, mapping parameter names to
          gradients of the loss with respect to those parameters.
        """
        scores = None
        ############################################################################
        # TODO: Implement the forward pass for the two-layer net, computing the    #
        # class scores for X and storing them in the scores variable.              #
        ############################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        W1, b1, W2, b2 = (self.params[k] for k in ("W1", "b1", "W2", "b2"))
        hidden, hidden_cache = affine_relu_forward(X, W1, b1)
        scores, scores_cache = affine_forward(hidden, W2, b2)
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        ############################################################################
        #                             END OF YOUR CODE                             #
        ############################################################################

        # If y is None then we are in test mode so just return scores
        if y is None:
            return scores

        loss, grads = 0, {}
        ############################################################################
        # TODO: Implement the backward pass for the two-layer net. Store the loss  #
        # in the loss variable and gradients in the grads dictionary. Compute data #
        # loss using softmax, and make sure that grads[k] holds the gradients for  #
        # self.params[k]. Don't forget to add L2 regularization!                   #
        #                                                                          #
        # NOTE: To ensure that your implementation matches ours and you pass the   #
        # automated tests, make sure that your L2 regularization includes a factor #
        # of 0.5 to simplify the expression for the gradient.                      #
        ############################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        data_loss, dscores = softmax_loss(scores, y)
        loss = data_loss + 0.5 * self.reg * float(np.sum(W1 * W1) + np.sum(W2 * W2))
        dhidden, grads["W2"], grads["b2"] = affine_backward(dscores, scores_cache)
        _, grads["W1"], grads["b1"] = affine_relu_backward(dhidden, hidden_cache)
        grads["W1"] += self.reg * W1
        grads["W2"] += self.reg * W2
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        ############################################################################
        #                             END OF YOUR CODE                             #
        ############################################################################

        return loss, grads


class FullyConnectedNet(object):
    """Class for a multi-layer fully connected neural network.

    Network contains an arbitrary number of hidden layers, ReLU nonlinearities, and a softmax loss
    function. This will also implement dropout and batch/layer normalization as options. For a
    network with L layers, the architecture will be

    {affine - [batch/layer norm] - relu - [dropout]} x (L - 1) - affine - softmax

    where batch/layer normalization and dropout are optional and the {...} block is repeated L - 1
    times.

    Learnable parameters are stored in the self.params dictionary and will be learned using the
    Solver class.
    """

    def __init__(self, hidden_dims, input_dim=3 * 32 * 32, num_classes=10, dropout=1,
                 normalization=None, reg=0.0, weight_scale=1e-2, dtype=np.float32, seed=None):
        """Initialize a new FullyConnectedNet.

        Inputs:
        - hidden_dims: A list of integers giving the size of each hidden layer.
        - input_dim: An integer giving the size of the input.
        - num_classes: An integer giving the number of classes to classify.
        - dropout: Scalar between 0 and 1 giving the probability of KEEPING a unit in the dropout
          layers. If dropout=1 then the network should not use dropout at all.
        - normalization: What type of normalization the network should use. Valid values are
          "batchnorm", "layernorm", or None for no normalization (the default).
        - reg: Scalar giving L2 regularization strength.
        - weight_scale: Scalar giving the standard deviation for random initialization of the
          weights, or 'he' / 'xavier' (see weight_std).
        - dtype: A numpy datatype object; all computations will be performed using this datatype.
          float32 is faster but less accurate, so you should use float64 for numeric gradient
          checking.
        - seed: If not None, then pass this random seed to the dropout layers. This will make the
          dropout layers deteriminstic so we can gradient check the model.
        """
        self.normalization = normalization
        self.use_dropout = dropout != 1
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = dtype
        self.params = {}

        ############################################################################
        # TODO: Initialize the parameters of the network, storing all values in    #
        # the self.params dictionary. Store weights and biases for the first layer #
        # in W1 and b1; for the second layer use W2 and b2, etc. Weights should be #
        # initialized from a normal distribution centered at 0 with standard       #
        # deviation weight_std(weight_scale, fan_in, fan_out), drawn in layer      #
        # order, and biases should be initialized to zero.                         #
        #                                                                          #
        # When using batch normalization, store scale and shift parameters for the #
        # first layer in gamma1 and beta1; for the second layer use gamma2 and     #
        # beta2, etc. Scale parameters should be initialized to ones and shift     #
        # parameters should be initialized to zeros. The output layer has none.    #
        ############################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        dims = [input_dim] + list(hidden_dims) + [num_classes]
        for i in range(self.num_layers):
            fan_in, fan_out = dims[i], dims[i + 1]
            std = weight_std(weight_scale, fan_in, fan_out)
            self.params["W%d" % (i + 1)] = std * np.random.randn(fan_in, fan_out)
            self.params["b%d" % (i + 1)] = np.zeros(fan_out)
            if normalization is not None and i < self.num_layers - 1:
                self.params["gamma%d" % (i + 1)] = np.ones(fan_out)
                self.params["beta%d" % (i + 1)] = np.zeros(fan_out)
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        ############################################################################
        #                             END OF YOUR CODE                             #
        ############################################################################

        # When using dropout we need to pass a dropout_param dictionary to each
        # dropout layer so that the layer knows the dropout probability and the mode
        # (train / test). You can pass the same dropout_param to each dropout layer.
        self.dropout_param = {}
        if self.use_dropout:
            self.dropout_param = {"mode": "train", "p": dropout}
            if seed is not None:
                self.dropout_param["seed"] = seed

        # With batch normalization we need to keep track of running means and
        # variances, so we need to pass a special bn_param object to each batch
        # normalization layer. You should pass self.bn_params[0] to the forward pass
        # of the first batch normalization layer, self.bn_params[1] to the forward
        # pass of the second batch normalization layer, etc.
        self.bn_params = []
        if self.normalization == "batchnorm":
            self.bn_params = [{"mode": "train"} for i in range(self.num_layers - 1)]
        if self.normalization == "layernorm":
            self.bn_params = [{} for i in range(self.num_layers - 1)]

        # Cast all parameters to the correct datatype.
        for k, v in self.params.items():
            self.params[k] = v.astype(dtype)

    def loss(self, X, y=None):
        """Compute loss and gradient for the fully connected net.

        Inputs:
        - X: Array of input data of shape (N, d_1, ..., d_k)
        - y: Array of labels, of shape (N,). y[i] gives the label for X[i].

        Returns:
        If y is None, then run a test-time forward pass of the model and return:
        - scores: Array of shape (N, C) giving classification scores, where scores[i, c] is the
          classification score for X[i] and class c.

        If y is not None, then run a training-time forward and backward pass and return a tuple
        of:
        - loss: Scalar value giving the loss
        - grads: Dictionary with the same keys as self.params, mapping parameter names to
          gradients of the loss with respect to those parameters.
        """
        X = X.astype(self.dtype, copy=False)
        mode = "test" if y is None else "train"

        # Set train/test mode for batchnorm params and dropout param since they
        # behave differently during training and testing.
        if self.use_dropout:
            self.dropout_param["mode"] = mode
        if self.normalization == "batchnorm":
            for bn_param in self.bn_params:
                bn_param["mode"] = mode
        scores = None
        ############################################################################
        # TODO: Implement the forward pass for the fully connected net, computing  #
        # the class scores for X and storing them in the scores variable.          #
        #                                                                          #
        # When using dropout, you'll need to pass self.dropout_param to each       #
        # dropout forward pass.                                                    #
        #                                                                          #
        # When using batch normalization, you'll need to pass self.bn_params[0] to #
        # the forward pass for the first batch normalization layer, pass           #
        # self.bn_params[1] to the forward pass for the second batch normalization #
        # layer, etc.                                                              #
        ############################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        L = self.num_layers
        caches = []
        out = X
        for i in range(1, L):
            gamma = self.params.get("gamma%d" % i)
            beta = self.params.get("beta%d" % i)
            bn_param = self.bn_params[i - 1] if self.bn_params else None
            out, cache = affine_norm_relu_forward(
                out, self.params["W%d" % i], self.params["b%d" % i], gamma, beta, bn_param,
                self.normalization, self.use_dropout, self.dropout_param)
            caches.append(cache)
        scores, last_cache = affine_forward(out, self.params["W%d" % L], self.params["b%d" % L])
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        ############################################################################
        #                             END OF YOUR CODE                             #
        ############################################################################

        # If test mode return early.
        if mode == "test":
            return scores

        loss, grads = 0.0, {}
        ############################################################################
        # TODO: Implement the backward pass for the fully connected net. Store the #
        # loss in the loss variable and gradients in the grads dictionary. Compute #
        # data loss using softmax, and make sure that grads[k] holds the gradients #
        # for self.params[k]. Don't forget to add L2 regularization!               #
        #                                                                          #
        # When using batch/layer normalization, you don't need to regularize the   #
        # scale and shift parameters.                                              #
        #                                                                          #
        # NOTE: To ensure that your implementation matches ours and you pass the   #
        # automated tests, make sure that your L2 regularization includes a factor #
        # of 0.5 to simplify the expression for the gradient.                      #
        ############################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        loss, dout = softmax_loss(scores, y)
        dout, grads["W%d" % L], grads["b%d" % L] = affine_backward(dout, last_cache)
        for i in range(L - 1, 0, -1):
            if i > 1:
                dout, dw, db, dgamma, dbeta = affine_norm_relu_backward(dout, caches[i - 1])
            else:
                # The input layer: nobody needs dX, so skip its product (the largest one of
                # the backward pass) and compute the parameter gradients only.
                _, nrd_cache = caches[0]
                da, dgamma, dbeta = norm_relu_dropout_backward(dout, nrd_cache)
                dw = X.reshape(X.shape[0], -1).T @ da
                db = da.sum(axis=0)
            grads["W%d" % i], grads["b%d" % i] = dw, db
            if self.normalization is not None:
                grads["gamma%d" % i], grads["beta%d" % i] = dgamma, dbeta
        if self.reg:
            for i in range(1, L + 1):
                W = self.params["W%d" % i]
                loss += 0.5 * self.reg * float(np.sum(W * W))
                grads["W%d" % i] += self.reg * W
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        ############################################################################
        #                             END OF YOUR CODE                             #
        ############################################################################

        return loss, grads
