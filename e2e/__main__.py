"""`python -m e2e` (`make e2e`): deploy a throw-away dev stack, prove the four scenarios are flagged, destroy it.

Without the Pulumi CLI, AWS credentials or the Confluent Cloud key it prints one line naming what is missing and
exits 0. Settings (environment): CONFLUENT_CLOUD_API_KEY/SECRET (required), E2E_CALLER_CIDRS (default: this
machine's address, detected), E2E_APP_IMAGE (a pushed app image instead of building one), PULUMI_BACKEND_URL
(default: a local file backend in a new temporary folder), PULUMI_CONFIG_PASSPHRASE[_FILE] (default: generated).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import requests

import settings
from e2e import stack as throwaway
from e2e.confluent import CloudApi
from e2e.run import AwsClients, Clients, Proof
from e2e.timeline import Timeline

ARTIFACTS = throwaway.ROOT / "artifacts" / "e2e"


def main(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m e2e", description=__doc__.splitlines()[0])
    parser.add_argument("--timeline", type=Path, help=f"where the timeline goes (default {ARTIFACTS}/<stack>.jsonl)")
    args = parser.parse_args(argv)
    environ = dict(os.environ if environ is None else environ)

    base = throwaway.base_config()
    missing = throwaway.missing_prerequisites(environ, base)
    if missing:
        print(f"e2e skipped: missing {', '.join(missing)}")
        return 0

    refused = throwaway.preflight_problems(environ, base)
    if refused:
        print("e2e: not started, the preflight refuses:\n" + "\n".join(finding.line for finding in refused))
        return 1
    name = throwaway.unique_name()
    region = str(base["aws:region"])
    http = requests.Session()
    config = throwaway.stack_config(base, throwaway.caller_cidrs(environ), throwaway.app_image(environ, base))
    store = throwaway.backend(environ, name)
    key, secret = environ[throwaway.CONFLUENT_KEY_ENV], environ[throwaway.CONFLUENT_SECRET_ENV]
    timeline = Timeline(args.timeline or ARTIFACTS / f"{name}.jsonl", name, settings.PROJECT, region)
    print(f"e2e: stack {name} in {region}, access from {', '.join(config[f'{settings.PROJECT}:eksPublicAccessCidrs'])}")
    proof = Proof(
        name, region, config,
        open_stack=lambda: throwaway.open_stack(name, store, config, key, secret),
        clients=Clients(AwsClients.connect(region), CloudApi(key, secret, http), http),
        timeline=timeline,
        store=store,
        out=lambda line: print(line, flush=True),
    )
    return proof.run()


if __name__ == "__main__":
    sys.exit(main())
