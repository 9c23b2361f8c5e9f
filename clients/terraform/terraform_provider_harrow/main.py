"""`terraform-provider-harrow`: the executable Terraform starts (plugin protocol 6 over gRPC, by `tf`)."""

from tf.runner import run_provider

from terraform_provider_harrow.provider import HarrowProvider


def main() -> None:
    run_provider(HarrowProvider())
