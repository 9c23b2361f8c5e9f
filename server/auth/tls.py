"""TLS for both listeners from one set of files: certificate chain, key, and optionally a client CA.

With a client CA, both listeners require a client certificate signed by it
(mutual TLS); the certificate's subject then names the caller unless a bearer
token says otherwise. gRPC's core only offers "require and verify" or "do not
ask", so optional client certificates are not offered on either transport,
keeping the two alike. TLS 1.2 is the floor (gRPC's core has the same floor).
"""

from __future__ import annotations

import ssl

import grpc

from server.config import TlsConfig


def grpc_credentials(files: TlsConfig) -> grpc.ServerCredentials:
    ca = files.client_ca_file.read_bytes() if files.client_ca_file is not None else None
    return grpc.ssl_server_credentials(
        [(files.key_file.read_bytes(), files.cert_file.read_bytes())],
        root_certificates=ca,
        require_client_auth=ca is not None,
    )


def rest_context(files: TlsConfig) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(files.cert_file, files.key_file)
    if files.client_ca_file is not None:
        context.load_verify_locations(cafile=str(files.client_ca_file))
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def peer_certificate_pem(ssl_object: ssl.SSLObject | None) -> bytes | None:
    """The verified client certificate of a TLS connection, PEM-encoded as gRPC's auth context has it."""
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    return ssl.DER_cert_to_PEM_cert(der).encode() if der else None
