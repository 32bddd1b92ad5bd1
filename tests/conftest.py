import fastdnn
import pytest


@pytest.fixture
def restore_threads():
    """Restores fastdnn's thread count after a test that changes it."""
    saved = fastdnn.get_num_threads()
    yield
    fastdnn.set_num_threads(saved)
