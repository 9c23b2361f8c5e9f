"""REST transport: every RPC transcoded from its google.api.http rule, plus /openapi.json.

The only entry point is `build_rest_app`; everything else is an implementation detail.
"""

from server.api.rest.transcoder import build_rest_app

__all__ = ["build_rest_app"]
