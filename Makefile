# macforge — every target sets itself up: a .venv is created and the project installed into it
# on first use (and again when pyproject.toml changes). Only Python 3.11+ and make are needed.
#
#   make sim FORMAT=e4m3 [UNIT=mul|fma|mac] [ACC=fp32] [FORMAT_B=e5m2] [ROUND=rne|rtz|rna|rup|rdn|sr]
#            [STAGES=n] [LOOP_STAGES=0..4] [SAT=1] [FUSED=0] [N=vectors] [SEED=s] [MODE=auto|fast|cocotb]
#            [LANES=k ALIGN=W PRESET=h100-fp8]   (UNIT=dot: k-lane dot product, block formats too)
#            [VERILOG=my.v TOP=my_module]
#   make verilog FORMAT=e4m3 [same unit variables] [OUT=out]
#   make test        # the CI suite (< 30 min on 2 cores)
#   make test-full   # plus the slow exhaustive sweeps
#   make bench       # golden-model throughput against ml_dtypes, measured in the same run
#   make sweep [SWEEP=file.yaml] [JOBS=n] [SCHEDULER=tcp://host:8786]   # sweep -> results/
#   make fpga FORMAT=e4m3 [unit variables] [TARGET=ice40|ecp5|xilinx[,...]] [BOARD=icebreaker|ulx3s]
#            [SWEEP_STAGES=0..4 [SWEEP_LOOP_STAGES=0..4]] [SEED=s]   # synth + PnR + bitstream -> fpga/build/<module>/<target>/
#   make hwtest FORMAT=e4m3 [unit variables] [BOARD=icebreaker] [PORT=/dev/ttyUSB1] [N=vectors]
#            [SIM=1]                        # vectors through the UART harness on a board (or simulated)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

FORMAT ?= e4m3
SEED   ?= 1
OUT    ?= out

UNIT_ARGS = --format $(FORMAT) \
	$(if $(UNIT),--unit $(UNIT)) $(if $(ACC),--acc $(ACC)) $(if $(FORMAT_B),--format-b $(FORMAT_B)) \
	$(if $(ROUND),--round $(ROUND)) $(if $(STAGES),--stages $(STAGES)) \
	$(if $(LOOP_STAGES),--loop-stages $(LOOP_STAGES)) \
	$(if $(filter 1 yes true,$(SAT)),--saturate) $(if $(filter 0 no false,$(FUSED)),--unfused) \
	$(if $(RND_BITS),--rnd-bits $(RND_BITS)) \
	$(if $(LANES),--lanes $(LANES)) $(if $(ALIGN),--align $(ALIGN)) $(if $(PRESET),--preset $(PRESET))

.PHONY: setup sim verilog formats test test-full bench sweep fpga hwtest clean distclean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "macforge: error: Python 3.11 or newer is required (set PYTHON=python3.11)"; exit 2; }
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $(STAMP)

sim: $(STAMP)
	$(BIN)/macforge sim $(UNIT_ARGS) --seed $(SEED) $(if $(N),-n $(N)) \
		$(if $(VERILOG),--verilog $(VERILOG)) $(if $(TOP),--top $(TOP)) $(if $(MODE),--mode $(MODE))

verilog: $(STAMP)
	$(BIN)/macforge verilog $(UNIT_ARGS) -o $(OUT)

formats: $(STAMP)
	$(BIN)/macforge formats

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

test-full: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile -q -m "slow or not slow"

bench: $(STAMP)
	$(BIN)/python bench/golden_throughput.py
	$(BIN)/python bench/cosim_throughput.py
	$(BIN)/python bench/sweep_scaling.py

# make sweep [SWEEP=examples/sweep_small.yaml] [RESULTS=results] [JOBS=n] [SCHEDULER=tcp://host:8786]
sweep: $(STAMP)
	$(BIN)/macforge sweep $(or $(SWEEP),examples/sweep_small.yaml) -o $(or $(RESULTS),results) \
		$(if $(JOBS),--jobs $(JOBS)) $(if $(SCHEDULER),--scheduler $(SCHEDULER)) --export csv

# nextpnr's placer seed is fixed (SEED defaults to 1 here too), so builds are reproducible
fpga: $(STAMP)
	$(BIN)/macforge fpga $(UNIT_ARGS) $(if $(TARGET),--target $(TARGET)) $(if $(BOARD),--board $(BOARD)) \
		$(if $(SWEEP_STAGES),--sweep-stages $(SWEEP_STAGES)) \
		$(if $(SWEEP_LOOP_STAGES),--sweep-loop-stages $(SWEEP_LOOP_STAGES)) --seed $(SEED)

hwtest: $(STAMP)
	$(BIN)/macforge hwtest $(UNIT_ARGS) $(if $(BOARD),--board $(BOARD)) $(if $(PORT),--port $(PORT)) \
		$(if $(N),--vectors $(N)) $(if $(filter 1 yes true,$(SIM)),--sim) --seed $(SEED)

clean:
	rm -rf build out .pytest_cache

distclean: clean
	rm -rf $(VENV) *.egg-info
