"""Entry point the Pulumi CLI runs for `--policy-pack policies`: it only builds the pack.

PolicyPack(...) starts the analyzer's gRPC server and never returns, so nothing may import this file; the list of
policies is fraud_policies.pack (tests and `make policy` use it from there).
"""
from pulumi_policy import PolicyPack

from fraud_policies.pack import PACK_ENFORCEMENT, PACK_NAME, POLICIES

PolicyPack(name=PACK_NAME, enforcement_level=PACK_ENFORCEMENT, policies=POLICIES)
