"""A Terraform provider for Harrow, written with the `tf` framework and talking to Harrow's REST API.

Layout: provider.py (configuration, the types served) · resource.py (what every resource does
alike: Operations, request ids, etags, 404s, import, plans) · resources/ (one module per type,
each only mapping its JSON to state) · data_sources.py · mapping.py / schema.py / values.py (the
plumbing) · api.py (HTTP).
"""
