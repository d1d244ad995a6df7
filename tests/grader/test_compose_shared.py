"""grader.authoring.compose.subset: a [[shared]] file's kept definitions under the source's header, with the
header's named imports reduced to what the kept definitions use."""
import textwrap

import pytest

from grader.authoring.compose import subset
from grader.authoring.regions import AuthoringError

SOURCE = textwrap.dedent('''\
    """Module doc."""
    import numpy as np

    from .layers import *  # noqa: F401,F403
    from .layers import (affine_forward, batchnorm_forward,
                         relu_forward as relu)
    from .other import unused_helper


    # the sandwich
    def affine_relu(x, w, b):
        a = affine_forward(x, w, b)
        return relu(a)


    def batchnorm_relu(x):
        return relu(batchnorm_forward(x))
    ''')


def test_named_imports_keep_only_what_the_kept_definitions_use():
    out = subset(SOURCE, ["affine_relu"], "src")
    assert "from .layers import affine_forward, relu_forward as relu\n" in out
    assert "batchnorm_forward" not in out and "unused_helper" not in out
    assert "from .layers import *" in out and '"""Module doc."""' in out and "import numpy as np" in out
    assert "# the sandwich\ndef affine_relu" in out and "def batchnorm_relu" not in out
    compile(out, "subset", "exec")


def test_everything_kept_leaves_the_header_as_it_is():
    out = subset(SOURCE, ["affine_relu", "batchnorm_relu"], "src")
    assert "from .layers import (affine_forward, batchnorm_forward,\n                     relu_forward as relu)" in out
    assert "from .other import unused_helper" not in out      # used by no definition
    assert subset(SOURCE, None, "src") == SOURCE


def test_an_unknown_definition_is_an_authoring_error():
    with pytest.raises(AuthoringError, match="no top-level definition of missing"):
        subset(SOURCE, ["missing"], "src")
