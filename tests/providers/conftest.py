# The provider tests run against the same sandbox accounts as the emulator's own tests.
from tests.sandbox.conftest import account, other_account, provider  # noqa: F401
