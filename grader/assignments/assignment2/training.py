"""Assignment 2's training checks: each model trained with the student's Solver on the salted task.

The task, the evaluation and the calibration are ``grader.references.training``'s; the thresholds are
stored in ``reference_outputs/assignment2/manifest.json`` by ``refresh-references``.
"""
from grader.references.training import TrainingCheck

# the linear baseline every check's threshold must clear (a net without hidden layer, on the flat rows)
LINEAR = ("classifiers.fc_net.FullyConnectedNet", {"hidden_dims": []})

TRAINING_CHECKS: dict[str, TrainingCheck] = {c.name: c for c in (
    TrainingCheck(
        "two_layer_net", "Q2", "classifiers.fc_net.TwoLayerNet",
        dict(input_dim=196, hidden_dim=64, num_classes=10, weight_scale=0.1, reg=0.0),
        dict(update_rule="sgd", optim_config={"learning_rate": 0.5}, num_epochs=5, batch_size=100,
             num_train_samples=200, num_val_samples=None, print_every=10 ** 9, verbose=False),
        linear_model=LINEAR,
    ),
    TrainingCheck(
        "fc_net", "Q3", "classifiers.fc_net.FullyConnectedNet",
        dict(hidden_dims=[64, 64], input_dim=196, num_classes=10, weight_scale=0.1, reg=0.0),
        dict(update_rule="sgd", optim_config={"learning_rate": 0.3}, num_epochs=5, batch_size=100,
             num_train_samples=200, num_val_samples=None, print_every=10 ** 9, verbose=False),
        linear_model=LINEAR,
    ),
    # conv(8 filters 3x3) - relu - 2x2 max pool - affine(32) - relu - affine, on the images as (N, 1, 14, 14).
    # weight_scale 0.2: with 1e-2, plain SGD leaves this net at chance (~0.10) for the 8 epochs here.
    TrainingCheck(
        "three_layer_convnet", "Q8", "classifiers.cnn.ThreeLayerConvNet",
        dict(input_dim=(1, 14, 14), num_filters=8, filter_size=3, hidden_dim=32, num_classes=10,
             weight_scale=0.2, reg=0.0),
        dict(update_rule="sgd", optim_config={"learning_rate": 0.5}, num_epochs=8, batch_size=100,
             num_train_samples=200, num_val_samples=None, print_every=10 ** 9, verbose=False),
        image_shape=(1, 14, 14), linear_model=LINEAR,
    ),
)}
