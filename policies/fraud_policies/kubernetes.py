"""Kubernetes: the EKS API endpoint, and workloads with probes, limits, non-root containers and no secrets or debug
mode in plain config."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from .plaintext_secrets import is_secret_key, secret_value_kind
from .resource_types import CONFIG_MAP, DEPLOYMENT, EKS_CLUSTER, EKS_COMPONENT
from .values import as_list, get_path, is_false, is_true, is_world

POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    DEPLOYMENT: ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template", "spec"),
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
