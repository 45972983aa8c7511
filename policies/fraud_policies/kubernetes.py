"""Kubernetes: the EKS API endpoint and secrets encryption; workloads with probes, limits, non-root containers on a
read-only root filesystem, recommended labels, enough replicas, no secrets or debug mode in plain config; no
LoadBalancer Services, disruption budgets that allow a drain, and only GA APIs."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from .plaintext_secrets import is_secret_key, secret_value_kind
from .resource_types import (
    CONFIG_MAP,
    DEPLOYMENT,
    EKS_CLUSTER,
    EKS_COMPONENT,
    POD_DISRUPTION_BUDGET,
    REPLICA_SET,
    SERVICE,
    STATEFUL_SET,
)
from .values import as_int, as_list, config_with_defaults, get_path, is_false, is_true, is_world

POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    DEPLOYMENT: ("spec", "template", "spec"),
    STATEFUL_SET: ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    REPLICA_SET: ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "kubernetes:core/v1:Pod": ("spec",),
}


# --- EKS ----------------------------------------------------------------------------------------------------------


def eks_public_endpoint_restricted(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == EKS_COMPONENT:
        settings, prefix = args.props, ""
    elif args.resource_type == EKS_CLUSTER:
        settings, prefix = args.props.get("vpcConfig") or {}, "vpcConfig."
    else:
        return
    if is_false(get_path(settings, "endpointPublicAccess")):
        return
    cidrs = as_list(get_path(settings, "publicAccessCidrs"))
    if not cidrs:
        report(f"the public API endpoint is on and {prefix}publicAccessCidrs is not set (EKS then allows 0.0.0.0/0)")
    for cidr in cidrs:
        if is_world(cidr):
            report(f"{prefix}publicAccessCidrs includes {cidr}: the Kubernetes API is open to the internet")


def eks_secrets_encryption(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Kubernetes Secrets are envelope-encrypted with a key of the account (the eks component's
    encryptionConfigKeyArn, or encryptionConfig.resources including "secrets" on the raw cluster)."""
    if args.resource_type == EKS_COMPONENT and not args.props.get("encryptionConfigKeyArn"):
        report("encryptionConfigKeyArn is not set: Kubernetes Secrets would not be envelope-encrypted with a KMS key")
    elif args.resource_type == EKS_CLUSTER:
        config = args.props.get("encryptionConfig")
        if "secrets" not in as_list(get_path(config, "resources")) or not get_path(config, "provider", "keyArn"):
            report("encryptionConfig does not encrypt resources ['secrets'] with a provider.keyArn")

# --- workloads ----------------------------------------------------------------------------------------------------


def pod_spec(resource_type: str, props: Mapping[str, Any]) -> Any:
    path = POD_SPEC_PATHS.get(resource_type)
    return get_path(props, *path) if path else None


def pod_containers(spec: Any, include_init: bool = True) -> list[Mapping[str, Any]]:
    keys = ("containers", "initContainers") if include_init else ("containers",)
    return [c for key in keys for c in as_list(get_path(spec, key)) if isinstance(c, Mapping)]


def configmap_no_secrets(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != CONFIG_MAP:
        return
    for section in ("data", "binaryData"):
        for key, value in (args.props.get(section) or {}).items():
            if is_secret_key(key):
                report(f"{section}.{key} looks like a secret; put it in a Kubernetes Secret")
            elif section == "data" and (kind := secret_value_kind(value)):
                report(f"{section}.{key} holds {kind}; put it in a Kubernetes Secret")


def deployment_probes(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != DEPLOYMENT:
        return
    for container in pod_containers(pod_spec(args.resource_type, args.props), include_init=False):
        missing = [probe for probe in ("readinessProbe", "livenessProbe") if not container.get(probe)]
        if missing:
            report(f"container {container.get('name')!r} has no {' and no '.join(missing)}")


def container_limits(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for container in pod_containers(pod_spec(args.resource_type, args.props)):
        limits = get_path(container, "resources", "limits") or {}
        missing = [kind for kind in ("cpu", "memory") if not limits.get(kind)]
        if missing:
            report(f"container {container.get('name')!r} has no {' and no '.join(missing)} limit")


def container_non_root(args: ResourceValidationArgs, report: ReportViolation) -> None:
    spec = pod_spec(args.resource_type, args.props)
    pod_level = is_true(get_path(spec, "securityContext", "runAsNonRoot"))
    for container in pod_containers(spec):
        own = get_path(container, "securityContext", "runAsNonRoot")
        if is_false(own) or not (is_true(own) or pod_level):
            report(f"container {container.get('name')!r} may run as root: set securityContext.runAsNonRoot true")


DEBUG_NAME = re.compile(r"(^|_)DEBUG$", re.I)


def _debug_on(name: Any, value: Any) -> bool:
    return isinstance(name, str) and bool(DEBUG_NAME.search(name)) and str(value).strip().lower() in ("true", "1", "yes", "on")


def no_debug_mode(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == CONFIG_MAP:
        for key, value in (args.props.get("data") or {}).items():
            if _debug_on(key, value):
                report(f"data.{key} is {value!r}: debug mode leaks stack traces and settings")
    for container in pod_containers(pod_spec(args.resource_type, args.props)):
        for variable in as_list(container.get("env")):
            if _debug_on(get_path(variable, "name"), get_path(variable, "value")):
                report(f"container {container.get('name')!r} sets {variable['name']}={variable['value']!r}: debug mode "
                       f"leaks stack traces and settings")


def read_only_root_filesystem(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for container in pod_containers(pod_spec(args.resource_type, args.props)):
        if not is_true(get_path(container, "securityContext", "readOnlyRootFilesystem")):
            report(f"container {container.get('name')!r} can write its root filesystem: set "
                   f"securityContext.readOnlyRootFilesystem true (mount an emptyDir where it must write)")


# Kubernetes' recommended labels (https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/,
# read 2026-12-01) that say what an object is and what it belongs to; the others are optional.
REQUIRED_LABELS = ("app.kubernetes.io/name", "app.kubernetes.io/part-of")


def recommended_labels(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in POD_SPEC_PATHS and args.resource_type != SERVICE:
        return
    labels = get_path(args.props, "metadata", "labels") or {}
    missing = [label for label in REQUIRED_LABELS if not str(labels.get(label) or "").strip()]
    if missing:
        report(f"metadata.labels has no {' and no '.join(missing)}")


REPLICA_DEFAULTS: dict[str, Any] = {"minReplicas": 3}


def minimum_replicas(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (DEPLOYMENT, REPLICA_SET, STATEFUL_SET):
        return
    minimum = int(config_with_defaults(args, REPLICA_DEFAULTS)["minReplicas"])
    replicas = get_path(args.props, "spec", "replicas")
    count = 1 if replicas is None else as_int(replicas)  # Kubernetes runs one replica when spec.replicas is unset
    if count is None or count < minimum:
        report(f"spec.replicas is {replicas!r}: this stack needs at least {minimum} so one pod's loss or a node drain "
               f"does not stop the service")


def no_load_balancer_service(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """A LoadBalancer Service gets a load balancer of its own outside the Ingress and its controller's settings."""
    if args.resource_type == SERVICE and get_path(args.props, "spec", "type") == "LoadBalancer":
        report("spec.type is LoadBalancer: expose the Service through the Ingress (ALB) instead")


def _is_zero(value: Any) -> bool:
    text = str(value).strip().rstrip("%")
    try:
        return float(text) == 0
    except ValueError:
        return False


def pdb_allows_disruption(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """A budget that allows no voluntary disruption blocks every node drain, so cluster upgrades hang."""
    if args.resource_type != POD_DISRUPTION_BUDGET:
        return
    spec = args.props.get("spec") or {}
    if "maxUnavailable" in spec and _is_zero(spec["maxUnavailable"]):
        report(f"spec.maxUnavailable is {spec['maxUnavailable']!r}: no pod may ever be evicted, so drains never finish")
    if str(spec.get("minAvailable", "")).strip() == "100%":
        report("spec.minAvailable is '100%': no pod may ever be evicted, so drains never finish")


PRE_RELEASE_VERSION = re.compile(r"^v\d+(alpha|beta)\d*$")


def ga_apis_only(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Alpha and beta APIs change or disappear between Kubernetes releases (e.g. extensions/v1beta1 Ingress)."""
    parts = args.resource_type.split(":")
    if len(parts) == 3 and parts[0] == "kubernetes" and PRE_RELEASE_VERSION.match(parts[1].rsplit("/", 1)[-1]):
        report(f"{parts[1]} is a pre-release API version: use the GA version of {parts[2]}")
