"""The parts of ``benchmarks/eternal_online.py``, one job per module (its docstring says what is measured)."""
