# The targets CI runs (.ci/run calls `make test`). Each sets up .venv on first use.
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-all lint docs world results clean

$(STAMP): setup.cfg pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# the CPU build of torch 2.13.0 first: the [agents] range (torch>=2.3,<3) then keeps it
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[agents,bench,calibrate,cf,distributed,grocery,offline,rules,torchrl,dev]"
	touch $(STAMP)

demo: $(STAMP)  ## the main job: the quick benchmark on the bundled real data (minutes)
	$(BIN)/cartgym bench --preset quick --out runs/quick --report runs/quick/report

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python tests/architecture.py lint  # import-linter's layers, on the installed layout

docs: $(STAMP)
	$(BIN)/mkdocs build --strict --quiet

test: lint docs  ## the whole test suite, CI-sized (long runs are marked slow)
	$(BIN)/python -m pytest -m "not slow" -q

test-all: lint docs  ## everything, including training to convergence and big benchmarks
	$(BIN)/python -m pytest -q

world: $(STAMP)  ## regenerate the bundled default worlds (v1's and v0's) bit for bit
	$(BIN)/cartgym fit online_retail -o cartgym/world/data/online_retail_v1.npz
	$(BIN)/cartgym fit online_retail --v0 -o cartgym/world/data/online_retail.npz

# Every figure in docs/, regenerated (about 6 hours on 2 cores; docs/benchmarks.md lists
# each script's time). Each step writes its own page; the last refreshes the included tables.
results: $(STAMP)  ## regenerate every figure in docs/ (hours)
	$(BIN)/python benchmarks/calibrate_exits.py
	$(BIN)/python benchmarks/calibrate_response.py
	$(BIN)/python benchmarks/position_effects.py
	$(BIN)/python benchmarks/promotion_effect.py
	$(BIN)/python benchmarks/stop_model.py
	$(BIN)/python benchmarks/plausibility.py --workers 2
	$(BIN)/python benchmarks/fit_time.py --output docs/results/fit_time.md
	$(BIN)/python benchmarks/fidelity.py
	$(BIN)/python benchmarks/tune_sb3.py --env CartRec-v1 --only-v1 --seeds 0 1
	$(BIN)/cartgym bench --preset cartrec_v1 --workers 2 --no-progress \
	    --out docs/results/cartrec-v1/sweep --report docs/results/cartrec-v1
	$(BIN)/cartgym bench --preset combinations --workers 2 --no-progress \
	    --out docs/results/cartrec-v1/combinations/sweep --report docs/results/cartrec-v1/combinations
	$(BIN)/python benchmarks/torchrl_vs_sb3.py
	$(BIN)/python benchmarks/partners.py --output docs/results/partners.md
	$(BIN)/python benchmarks/throughput.py --output docs/results/throughput.md --profile
	$(BIN)/python docs/gen_pages.py

clean:
	rm -rf $(VENV) site .pytest_cache .mypy_cache .ruff_cache
