"""The mlp assignment's training checks: a net of the student's trained by the Trainer on the salted task.

The task, the judging and the calibration are ``grader.references.training``'s; this file says how a net of
this API is trained (``Trainer(network, x_train, t_train, x_test, t_test, ...).train()``), scored
(``predict(X)``, in test mode for MultiLayerNetExtend) and given parameters (in place: the layers share the
arrays). The thresholds are stored in ``reference_outputs/mlp/manifest.json`` by ``refresh-references``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.references.training import TrainingCheck


@dataclass(frozen=True)
class TrainerCheck(TrainingCheck):
    """A training check of a net with ``predict``/``gradient`` and ``params`` trained by ``trainer.Trainer``
    (``solver_kwargs``: the Trainer's keywords; ``linear_model``: a class and its full keywords)."""

    solver: str = "trainer.Trainer"
    test_mode: dict = field(default_factory=dict)   # keywords of predict for test-mode scores

    TRAINER = "Trainer"
    HISTORIES = {"loss_history": "train_loss_list", "train_acc_history": "train_acc_list",
                 "val_acc_history": "test_acc_list"}

    def sandbox_train(self, sb, package: str, model, data: dict, timeout: float):
        trainer = sb.new(f"{package}.{self.solver}", model, data["X_train"], data["y_train"], data["X_val"],
                         data["y_val"], **self.solver_kwargs)
        sb.call_method(trainer, "train", timeout=timeout)
        return trainer

    def reference_train(self, ref: Any, model, data: dict) -> None:
        ref.cls(self.solver)(model, data["X_train"], data["y_train"], data["X_val"], data["y_val"],
                             **self.solver_kwargs).train()

    def scores(self, model, X: np.ndarray) -> np.ndarray:
        return model.predict(X, **self.test_mode)

    def set_params(self, model, params: dict) -> None:
        for k, v in params.items():
            np.copyto(model.params[k], v)

    def linear_reference(self, ref: Any):
        cls, kwargs = self.linear_model
        return ref.cls(cls)(**kwargs)


TRAINER = dict(mini_batch_size=100, verbose=False, evaluate_sample_num_per_epoch=200)
LINEAR = ("multi_layer_net.MultiLayerNet", dict(input_size=196, hidden_size_list=[], output_size=10,
                                                weight_init_std=0.01))
LINEAR_EXTEND = ("multi_layer_net_extend.MultiLayerNetExtend", dict(LINEAR[1]))   # predict takes train_flg

TRAINING_CHECKS: dict[str, TrainingCheck] = {c.name: c for c in (
    # the homework's net, smaller: 196-64-64-10 with leaky ReLUs, Adam
    TrainerCheck(
        "mlp_adam", "Q3", "three_layer_net.ThreeLayerNet",
        dict(input_size=196, hidden_size1=64, hidden_size2=64, output_size=10, weight_init_std="he"),
        dict(TRAINER, epochs=4, optimizer="Adam", optimizer_param={"lr": 0.003}),
        linear_model=LINEAR,
    ),
    # batch norm lets plain SGD train a net whose initial weights are far too small (std 0.01). Only params
    # come back from the sandbox (not the running statistics), so the trusted side scores it with the
    # statistics of each evaluation batch of 500 images (train_flg=True; the net has no dropout).
    TrainerCheck(
        "batchnorm_net", "Q5", "multi_layer_net_extend.MultiLayerNetExtend",
        dict(input_size=196, hidden_size_list=[64, 64], output_size=10, weight_init_std=0.01, use_batchnorm=True),
        dict(TRAINER, epochs=4, optimizer="SGD", optimizer_param={"lr": 0.1}),
        linear_model=LINEAR_EXTEND, test_mode={"train_flg": True},
    ),
)}
