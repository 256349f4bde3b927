"""Test-wide settings: keep torch to one thread per pytest worker (2-core CI)."""

import os

import torch

if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)
