"""Pure logic of Harrow: no I/O, no framework, nothing else of ours imported.

Everything here is unit-tested without a database, a socket or a cluster.
"""
