"""``python -m alliance_score.server``: print the service's OpenAPI document.

``python -m alliance_score.server > docs/openapi.json`` regenerates the committed copy.
Run the service itself with ``alliance-score serve``.
"""

import sys

from . import openapi_text

sys.stdout.write(openapi_text())
