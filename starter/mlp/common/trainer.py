"""Trainer: mini-batch training of any network that has ``params``, ``gradient``, ``loss`` and ``accuracy``."""
import numpy as np

from .optimizer import OPTIMIZERS


class Trainer:
    """Trains ``network`` on (x_train, t_train) with one of the update rules of ``optimizer.py``.

    Inputs of the constructor:
    - network: a net with ``params``, ``gradient(x, t)``, ``loss(x, t)`` and ``accuracy(x, t)``
    - x_train (N, D), t_train (N,) or (N, C); x_test, t_test: the data evaluated after every epoch
    - epochs: passes over the training data (an epoch is max(N / mini_batch_size, 1) iterations)
    - mini_batch_size: examples per iteration, drawn with np.random.choice
    - optimizer: the update rule by name ('SGD', 'Momentum', 'Nesterov', 'AdaGrad', 'RMSprop', 'Adam',
      'AdaBelief'; any letter case), and optimizer_param its keywords, e.g. {'lr': 0.01}
    - evaluate_sample_num_per_epoch: evaluate the accuracies on the first this many examples only (None: all)
    - verbose: print the loss of every iteration and the accuracies of every epoch

    Histories after ``train()``: ``train_loss_list`` (one loss per iteration), ``train_acc_list`` and
    ``test_acc_list`` (one accuracy per epoch).
    """

    def __init__(self, network, x_train, t_train, x_test, t_test, epochs=20, mini_batch_size=100,
                 optimizer="SGD", optimizer_param=None, evaluate_sample_num_per_epoch=None, verbose=True):
        self.network = network
        self.verbose = verbose
        self.x_train, self.t_train = x_train, t_train
        self.x_test, self.t_test = x_test, t_test
        self.epochs = epochs
        self.batch_size = mini_batch_size
        self.evaluate_sample_num_per_epoch = evaluate_sample_num_per_epoch
        name = optimizer.lower()
        if name not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {optimizer!r}; known: {', '.join(OPTIMIZERS)}")
        self.optimizer = OPTIMIZERS[name](**(optimizer_param if optimizer_param is not None else {"lr": 0.01}))
        self.train_size = x_train.shape[0]
        self.iter_per_epoch = max(self.train_size // mini_batch_size, 1)
        self.max_iter = int(epochs * self.iter_per_epoch)
        self.current_iter = 0
        self.current_epoch = 0
        self.train_loss_list = []
        self.train_acc_list = []
        self.test_acc_list = []

    def train_step(self):
        """One iteration: a random mini-batch, its gradient, one update; after the last iteration of an
        epoch, the accuracies."""
        batch_mask = np.random.choice(self.train_size, self.batch_size)
        x_batch, t_batch = self.x_train[batch_mask], self.t_train[batch_mask]
        grads = self.network.gradient(x_batch, t_batch)
        self.optimizer.update(self.network.params, grads)
        loss = float(self.network.loss(x_batch, t_batch))
        self.train_loss_list.append(loss)
        if self.verbose:
            print(f"train loss: {loss:.4f}")
        if self.current_iter % self.iter_per_epoch == 0:
            self.current_epoch += 1
            x_tr, t_tr, x_te, t_te = self.x_train, self.t_train, self.x_test, self.t_test
            n = self.evaluate_sample_num_per_epoch
            if n is not None:
                x_tr, t_tr, x_te, t_te = x_tr[:n], t_tr[:n], x_te[:n], t_te[:n]
            train_acc = self.network.accuracy(x_tr, t_tr)
            test_acc = self.network.accuracy(x_te, t_te)
            self.train_acc_list.append(train_acc)
            self.test_acc_list.append(test_acc)
            if self.verbose:
                print(f"=== epoch {self.current_epoch}, train acc {train_acc:.3f}, test acc {test_acc:.3f} ===")
        self.current_iter += 1

    def train(self):
        """Run every iteration, then evaluate on the whole test data -> the test accuracy (a float)."""
        for _ in range(self.max_iter):
            self.train_step()
        test_acc = self.network.accuracy(self.x_test, self.t_test)
        if self.verbose:
            print(f"=============== final test accuracy: {test_acc:.4f} ===============")
        return test_acc
