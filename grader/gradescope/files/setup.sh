#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (Ubuntu): the system packages,
# a venv with the grader's dependencies (the grader itself stays in /autograder/source, readable by root
# only), and the permissions the setpriv isolation tier relies on.
set -euo pipefail
SOURCE=/autograder/source
VENV=__VENV__
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq software-properties-common >/dev/null
add-apt-repository -y universe >/dev/null && apt-get update -qq
# bubblewrap (the first isolation tier), util-linux (setpriv, prlimit, unshare: the second), Fashion-MNIST
apt-get install -y -qq python3 python3-venv bubblewrap util-linux dataset-fashion-mnist >/dev/null
PYTHON=python3
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then   # the grader needs Python 3.11+
    apt-get install -y -qq python3.11 python3.11-venv >/dev/null
    PYTHON=python3.11
fi
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -c "$SOURCE/constraints.txt" -r "$SOURCE/requirements.txt"
chmod 755 "$(dirname "$VENV")" "$VENV"
# The grader, the hidden suites, the references and the secret: root only.
chown -R root:root "$SOURCE"
chmod -R go-rwx "$SOURCE"
chmod 700 "$SOURCE"
# The full Fashion-MNIST test set holds the hidden split: root only (the notebooks get a public copy).
chmod -R go-rwx /usr/share/datasets/fashion-mnist
