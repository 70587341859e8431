"""tests/attack uses the fixtures and helpers of tests/integration/conftest.py.
That file is loaded under its own module name and re-exported: this file is
"conftest" too, so `from conftest import *` here would import itself."""
import importlib.util
import os
import sys

_INTEGRATION = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration")
sys.path.insert(0, _INTEGRATION)  # rawws.py and the like
_spec = importlib.util.spec_from_file_location("integration_conftest",
                                               os.path.join(_INTEGRATION, "conftest.py"))
sys.modules["integration_conftest"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sys.modules["integration_conftest"])
from integration_conftest import *  # noqa: E402,F401,F403
