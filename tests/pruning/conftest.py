"""Pruning tests: one CPU thread, offline hub."""

import pytest

from pruning_helpers import random_samples


@pytest.fixture
def samples():
    return random_samples()
