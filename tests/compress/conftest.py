from __future__ import annotations

import pytest

from tests.compress.helpers import synthetic_binary


@pytest.fixture(scope="module")
def task():
    return synthetic_binary(("syn000", "syn003", "syn006"))
