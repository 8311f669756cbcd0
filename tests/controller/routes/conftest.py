from tests.controller.api_support import api, make_api  # noqa: F401  (fixtures)
