# pgtools — the two commands a user needs are `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test bench lint clean ceph-releases

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

demo: setup
	@mkdir -p out
	$(BIN)/pgtools demo sample_dumps/seedlike_max300 -o out

# the suite on two workers (pytest-xdist; CI has 2 cores): tests/xdist_groups.py keeps the live Ceph clusters, the
# Dask LocalClusters and the notebooks each on one worker (otherwise a module's tests share one) and orders the
# groups heaviest first, which --no-loadscope-reorder keeps.  `make test TEST_WORKERS=1` runs on one worker.
TEST_WORKERS ?= 2
test: setup
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder

# Ceph's tools of the newer releases for the oracle tests: Reef 18.2.7 (Debian trixie) and Tentacle 20.2.4 (sid),
# one mmdebstrap chroot each in /var/cache/pgtools-ceph (root; kept while its stamp matches, rebuilt otherwise)
ceph-releases: setup
	$(BIN)/python scripts/ceph_releases.py

# byte-compile pgtools first (as installing a wheel does): a start-up timed without .pyc files (an editable install
# under PYTHONDONTWRITEBYTECODE=1) would measure Python's compiler, not pgtools
bench: setup
	$(BIN)/python -m compileall -q pgtools
	$(BIN)/python benchmarks/run.py

lint: setup
	$(BIN)/ruff check pgtools tests benchmarks scripts

clean:
	rm -rf $(VENV) out .pytest_cache

# A throwaway real Ceph cluster (Debian's Ceph 16.2 packages, root, 127.0.0.1 only): scripts/cluster.py
# start|status|collect|stop; sample-dumps regenerates the sample captures into OUT (default: a temp dir).
.PHONY: cluster cluster-stop sample-dumps
cluster: setup
	$(BIN)/python scripts/cluster.py start $(CLUSTER_ARGS)

cluster-stop:
	$(BIN)/python scripts/cluster.py stop

sample-dumps: setup
	$(BIN)/python scripts/make_sample_dumps.py --scenario $(or $(SCENARIO),all) $(if $(OUT),--out $(OUT))
