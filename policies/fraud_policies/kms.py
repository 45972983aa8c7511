"""KMS: customer-managed keys rotate, keep the key-policy lockout check, and say what they encrypt."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from .resource_types import KMS_KEY
from .values import is_true

# Automatic rotation exists only for symmetric encryption keys whose material KMS generated: not for asymmetric or
# HMAC keys, imported material or keys in a custom key store
# (https://docs.aws.amazon.com/kms/latest/APIReference/API_EnableKeyRotation.html, read 2026-12-01).
ROTATABLE_KEY_SPEC = "SYMMETRIC_DEFAULT"


def _rotatable(props: Mapping[str, Any]) -> bool:
    spec = props.get("customerMasterKeySpec") or ROTATABLE_KEY_SPEC
    return spec == ROTATABLE_KEY_SPEC and not props.get("customKeyStoreId") and not props.get("xksKeyId")


def kms_key_rotation(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == KMS_KEY and _rotatable(args.props) and not is_true(args.props.get("enableKeyRotation")):
        report("enableKeyRotation is not true: a symmetric key's material would never rotate")


def kms_no_policy_lockout_bypass(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == KMS_KEY and is_true(args.props.get("bypassPolicyLockoutSafetyCheck")):
        report("bypassPolicyLockoutSafetyCheck is true: a key policy could lock every principal out of the key")


def kms_key_description(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == KMS_KEY and not str(args.props.get("description") or "").strip():
        report("description is not set: say what the key encrypts, so nobody schedules it for deletion blindly")
