# The integration fixtures, imported as integration.conftest: "from conftest
# import *" would import this very file (pytest loads it as "conftest").
import os
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from integration.conftest import *  # noqa: E402,F401,F403
