from tests.phones.conftest import available, buy, funded, on_commit, sandbox  # noqa: F401
