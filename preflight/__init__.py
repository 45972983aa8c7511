"""The preflight of `make up` and `make destroy`: what a deploy or a teardown needs from this machine and the
stack's config, checked in seconds and reported all at once, before Pulumi starts (`python -m preflight`).

One file per thing checked: the Pulumi CLI and the release the program needs (pulumi_cli, pulumi_version),
the secrets passphrase, the stack config as settings.py reads it (stack), AWS credentials (aws), the
Confluent Cloud key (confluent), the access CIDRs and this machine's address (access), and the Docker build
of the app image (image_build); run.py puts them together.
"""
