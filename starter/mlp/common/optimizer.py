"""Update rules as classes. Each has ``update(params, grads)``, which changes every array of the dict
``params`` IN PLACE (``params[key] -= ...``) from the gradient of the same key in ``grads``, so the layers
that hold references to those arrays see the new values. The state an update rule needs between steps
(velocities, accumulated squares, moments, the step counter) lives in the object, one array per key,
created as zeros on the first call.

Notation of the formulas: p is one parameter array, g its gradient, lr the learning rate; every operation
is elementwise.
"""
import numpy as np


class SGD:
    """Stochastic gradient descent.

        p -= lr * g
    """

    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        pass
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****


class Momentum:
    """SGD with momentum (state: the velocity ``v[key]``, zeros at first).

        v = momentum * v - lr * g
        p += v
    """

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = None

    def update(self, params, grads):
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        pass
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****


class Nesterov:
    """Nesterov's accelerated gradient (state: the velocity ``v[key]``, zeros at first), in the form that
    keeps the parameters at the look-ahead point:

        v = momentum * v - lr * g
        p += momentum * momentum * v - (1 + momentum) * lr * g
    """

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = None

    def update(self, params, grads):
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        pass
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****


class AdaGrad:
    """AdaGrad (state: the sum of squared gradients ``h[key]``, zeros at first).

        h += g * g
        p -= lr * g / (sqrt(h) + 1e-7)
    """

    def __init__(self, lr=0.01):
        self.lr = lr
        self.h = None

    def update(self, params, grads):
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        pass
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****


class RMSprop:
    """RMSprop (state: the moving average of squared gradients ``h[key]``, zeros at first).

        h = decay_rate * h + (1 - decay_rate) * g * g
        p -= lr * g / (sqrt(h) + 1e-7)
    """

    def __init__(self, lr=0.01, decay_rate=0.99):
        self.lr = lr
        self.decay_rate = decay_rate
        self.h = None

    def update(self, params, grads):
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        pass
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****


class Adam:
    """Adam (state: the step counter ``iter``, 0 at first, and the moments ``m[key]``, ``v[key]``, zeros at
    first). At each call, once for all keys, ``iter += 1`` and

        lr_t = lr * sqrt(1 - beta2**iter) / (1 - beta1**iter)

    then for each key

        m += (1 - beta1) * (g - m)          (i.e. m = beta1 * m + (1 - beta1) * g)
        v += (1 - beta2) * (g * g - v)      (i.e. v = beta2 * v + (1 - beta2) * g * g)
        p -= lr_t * m / (sqrt(v) + 1e-7)
    """

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.iter = 0
        self.m = None
        self.v = None

    def update(self, params, grads):
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        pass
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****


class AdaBelief:
    """AdaBelief: Adam whose second moment tracks the squared deviation of the gradient from its moving
    average, (g - m)**2, the "belief" in the current gradient (state: ``iter``, ``m[key]`` and ``s[key]``,
    as in Adam). At each call ``iter += 1``, ``lr_t`` as in Adam, then for each key

        m += (1 - beta1) * (g - m)
        s += (1 - beta2) * ((g - m)**2 - s)     (with the m just updated)
        p -= lr_t * m / (sqrt(s) + 1e-7)
    """

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.iter = 0
        self.m = None
        self.s = None

    def update(self, params, grads):
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        pass
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****


# The update rules by the names Trainer accepts (lower case).
OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "nesterov": Nesterov, "adagrad": AdaGrad,
              "rmsprop": RMSprop, "adam": Adam, "adabelief": AdaBelief}
