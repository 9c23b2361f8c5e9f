"""Who may call Harrow and what they did (issue 10).

`guard` wraps every servicer once, so gRPC and REST authenticate, authorize
and audit through the same code; `policy` is the pure decision, `rules` maps
the contract's RPCs onto it, `secrets` and `tls` protect what is stored and
what travels.
"""
