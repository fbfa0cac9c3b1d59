"""Fixtures of the training tests: the tiny dataset and feature cache (made once per session,
see :mod:`tests.train.dataset_fixture`) and one torch thread for every test here."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.train.dataset_fixture import make_dataset, make_synthetic_cache


@pytest.fixture(scope="session")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("avsep-train-data"))


@pytest.fixture(scope="session")
def feature_cache(dataset: Path) -> Path:
    """Synthetic class-dependent features in the cache format (see make_synthetic_cache)."""
    return make_synthetic_cache(dataset)


@pytest.fixture(autouse=True)
def single_thread():
    """One torch thread for these tiny models: on a machine whose few cores are shared, two
    OpenMP threads spin against each other and run several times slower than one."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
