# Two entry points, both safe to run on a fresh Debian machine (they install what they need):
#   make serve   - the grading service on embedded defaults (SQLite, local workers)
#   make test    - the whole test suite
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
APT_PACKAGES := bubblewrap dataset-fashion-mnist redis-server postgresql chromium python3-venv python3-dev docker-compose
export OPENBLAS_NUM_THREADS := 1

.PHONY: setup system-packages serve test test-quick bench constraints

system-packages:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y -qq $$missing >/dev/null; \
	fi

# constraints.txt pins every package to the version the tests passed with (refresh it with `make constraints`)
$(VENV)/.installed: pyproject.toml constraints.txt
	/usr/bin/python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[test]'
	touch $@

constraints:
	$(PY) -m pip freeze --exclude-editable | grep -v -i -E '^(pip|setuptools|wheel|torch|torchvision|nvidia-.*|triton|sympy|mpmath|networkx)==' > constraints.txt

setup: system-packages $(VENV)/.installed

serve: setup
	$(PY) -m api serve --host 127.0.0.1 --port $${PORT:-8000}

# Two pytest processes, one test file each at a time (most tests wait on sandboxes, kernels and servers);
# the tests marked serial run alone afterwards.
test: setup
	$(PY) -m grader selftest
	$(PY) -m pytest -q --durations=25 -n 2 --dist loadfile -m "not serial"
	$(PY) -m pytest -q -m serial

test-quick: setup
	$(PY) -m pytest -q -m "not slow"

bench: setup
	$(PY) -m pip install -q torch==2.13.0
	for b in bench/*.py; do $(PY) $$b; done
