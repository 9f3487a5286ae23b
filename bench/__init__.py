"""Benchmarks of autograd_gpu against PyTorch, in one process on one device.

    python -m bench --device cpu            # or --device cuda; --quick for a smoke run; --out DIR

Prints one table of time ratios (autograd_gpu / PyTorch, below 1 is faster) with both medians and the
issue's targets, checks that the train-step losses agree, and writes bench/results/<device>-<date>.json
and a .png bar chart of the ratios. Workloads live in bench/workloads.py, the table and chart in
bench/report.py.
"""
