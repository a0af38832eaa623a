from tests.api.conftest import quick_password_hashes  # noqa: F401  (a fixture)
