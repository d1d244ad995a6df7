"""Fully-connected neural networks with a modular design, trained with softmax loss."""
import numpy as np

from ..layer_utils import *  # noqa: F401,F403
from ..layer_utils import affine_backward, affine_forward, affine_relu_backward, affine_relu_forward, softmax_loss
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
        pass
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
        pass
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
        pass
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        ############################################################################
        #                             END OF YOUR CODE                             #
        ############################################################################

        return loss, grads
