"""Entry point the Pulumi CLI runs for `--policy-pack policies`: it only builds the pack.

PolicyPack(...) starts the analyzer's gRPC server and never returns, so nothing may import this file; the list of
policies is fraud_policies.pack (tests and `make policy` use it from there).
"""
import sys
from pathlib import Path

from pulumi_policy import PolicyPack

# The pack reads Flink SQL with the repository's own scanner (sql_text.py, one level up): the pack runs from here.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fraud_policies.pack import PACK_ENFORCEMENT, PACK_NAME, POLICIES  # noqa: E402

PolicyPack(name=PACK_NAME, enforcement_level=PACK_ENFORCEMENT, policies=POLICIES)
