"""Entry point the Pulumi CLI runs for `--policy-pack policies`: it only builds the pack.

PolicyPack(...) starts the analyzer's gRPC server and never returns, so nothing may import this file; the rules
live in fraud_policies.rules (tests and `make policy` use them from there).
"""
from pulumi_policy import PolicyPack

from fraud_policies.rules import PACK_ENFORCEMENT, PACK_NAME, POLICIES

PolicyPack(name=PACK_NAME, enforcement_level=PACK_ENFORCEMENT, policies=POLICIES)
