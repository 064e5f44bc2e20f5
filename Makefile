# macforge — every target sets itself up: a .venv is created and the project installed into it
# on first use (and again when pyproject.toml changes). Only Python 3.11+ and make are needed.
# Python 3.11+, make and a C++ compiler (Verilator compiles the simulations) are needed.
#
#   make sim FORMAT=e4m3 [UNIT=mul|fma|mac|dot|...] [ACC=fp32] [ROUNDING=rne|rtz|rna|rup|rdn|sr]
#            [STAGES=n] [SATURATE=1] [FUSED=0] [N=vectors] [VERILOG="a.v b.sv" TOP=my_module]
#   make verilog|cost|fpga|hwtest FORMAT=... [the same unit variables]
#   make pareto|reproduce|calibrate|sweep|formats|error-stats|workload [their variables]
#   make test | test-full | bench | docs | figures
#   make help     # every target and every variable (each is the option of the same name)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# Every recipe that runs macforge is `$(MF) GOAL`: macforge.cli.make reads the variables given on
# make's command line (make exports them to the recipe; MAKEFLAGS names them), checks each against
# the options of the goal's subcommand (FORMAT= is --format, LOOP_STAGES= is --loop-stages, flags
# take 1/0, one token per value), refuses unknown ones naming the closest valid name, and runs the
# CLI in-process: no variable is ever pasted into a shell command. `make help` lists them all.
MF := $(BIN)/python -m macforge.cli.make
export MAKECMDGOALS

# PYTHON is the one variable make itself uses (to create .venv): one word, no quotes.
ifneq ($(words $(PYTHON)),1)
$(error PYTHON must be one word (an interpreter name or path), not '$(PYTHON)')
endif
ifneq ($(findstring ',$(PYTHON))$(findstring $$,$(PYTHON)),)
$(error PYTHON may not contain quotes or $$)
endif

CLI_GOALS := sim verilog formats cost pareto reproduce calibrate error-stats workload sweep fpga hwtest

.PHONY: help setup test test-full bench docs figures clean distclean $(CLI_GOALS)
.DEFAULT_GOAL := help

help: $(STAMP)
	@$(MF) --help-text

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || '$(PYTHON)' -m venv $(VENV)
	@command -v c++ >/dev/null 2>&1 || command -v g++ >/dev/null 2>&1 || \
		{ echo "macforge: error: a C++ compiler (c++ or g++) is required: Verilator builds the simulations with it"; exit 2; }
	@$(BIN)/python -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "macforge: error: Python 3.11 or newer is required (set PYTHON=python3.11)"; exit 2; }
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,docs]'
	@touch $(STAMP)

$(CLI_GOALS): $(STAMP)
	@$(MF) $@

test: $(STAMP)
	@$(MF) --check $@
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

test-full: $(STAMP)
	@$(MF) --check $@
	$(BIN)/python -m pytest -n 2 --dist loadfile -q -m "slow or not slow"

bench: $(STAMP)
	@$(MF) --check $@
	$(BIN)/python bench/golden_throughput.py
	$(BIN)/python bench/cosim_throughput.py
	$(BIN)/python bench/sweep_scaling.py
	$(BIN)/python bench/sweep_dryrun.py
	$(BIN)/python bench/sim_stream_memory.py
	$(BIN)/python bench/timed_energy.py
	$(BIN)/python bench/synth_time.py --quick
	$(BIN)/python bench/unit_quality.py
	$(BIN)/python bench/pareto_resnet18.py

# the documentation site (MkDocs, API reference from the numpydoc docstrings) -> build/site
docs: $(STAMP)
	@$(MF) --check $@
	$(BIN)/python -m mkdocs build --strict -d build/site

# regenerate the measured tables in README/docs from the commands that measure them
figures: $(STAMP)
	@$(MF) --check $@
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python scripts/figures.py

clean:
	rm -rf build out .pytest_cache

distclean: clean
	rm -rf $(VENV) *.egg-info
