"""Shared retrieval fixtures."""

import pytest
from retrieval_reference import TiedData, make_tied_data


@pytest.fixture(scope="session")
def tied_data() -> TiedData:
    return make_tied_data()
