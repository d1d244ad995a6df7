"""Which shape of the two-layer net a submission holds: the 2021+ ``classifiers/fc_net.py`` TwoLayerNet
(on layers.py, trained by the Solver) or the 2016-2020 ``classifiers/neural_net.py`` one (a class of its
own with ``loss(X, y=None, reg=0.0)``, ``train`` and ``predict``). Q5 grades whichever it finds, the 2021+
one when it has both."""
from __future__ import annotations

from dataclasses import dataclass

from grader import checks

NEW_FILE, OLD_FILE = "classifiers/fc_net.py", "classifiers/neural_net.py"


@dataclass(frozen=True)
class Shape:
    name: str            # "2021+" or "2016-2020"
    file: str
    model: str           # dotted class inside the package
    old: bool

    def kwargs(self, input_dim, hidden_dim, num_classes, weight_scale):
        if self.old:
            return dict(input_size=input_dim, hidden_size=hidden_dim, output_size=num_classes, std=weight_scale)
        return dict(input_dim=input_dim, hidden_dim=hidden_dim, num_classes=num_classes, weight_scale=weight_scale)


NEW = Shape("2021+", NEW_FILE, "classifiers.fc_net.TwoLayerNet", False)
OLD = Shape("2016-2020", OLD_FILE, "classifiers.neural_net.TwoLayerNet", True)


def two_layer_shape(sb) -> Shape:
    """The shape to grade; fails (zero) when the submission has neither file, or the one it has does not
    import."""
    info = sb.submission
    unusable = set(info.substituted) | set(info.broken)
    if NEW_FILE not in info.substituted and OLD_FILE in info.substituted:
        shape = NEW
    elif OLD_FILE not in info.substituted and NEW_FILE in info.substituted:
        shape = OLD
    elif NEW_FILE not in info.substituted:
        shape = NEW
    else:
        checks.fail(f"the two-layer net is missing: the submission has neither cs231n/{NEW_FILE} nor "
                    f"cs231n/{OLD_FILE}")
    if shape.file in unusable:
        checks.fail(f"cs231n/{shape.file} could not be imported: {info.broken.get(shape.file, '')}")
    return shape
