"""Calling the pack's policies the way the Pulumi engine does, and compliant sample resources, for the policy tests.

A resource policy gets ``ResourceValidationArgs`` with its props (and provider props) wrapped in the SDK's read-only
proxies; a stack policy gets every resource as a ``PolicyResource`` with its dependencies and property
dependencies. Both report through a callback; these helpers collect what was reported.
"""
from __future__ import annotations

import json
from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.proxy import unknown_checking_proxy

from policies.fraud_policies import pack
from policies.fraud_policies import resource_types as types

OPTIONS = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])
TAGGED_PROVIDER = {"region": "eu-central-1",
                   "defaultTags": json.dumps({"tags": {"project": "fraud-detection", "stack": "dev", "owner": "team"}})}


def violations(policy_name: str, resource_type: str, props: dict[str, Any], config: dict | None = None,
               provider: dict | None = None) -> list[str]:
    """What one resource policy reports on one resource."""
    policy = pack.policy(policy_name)
    found: list[str] = []
    provider_resource = None
    if provider is not None:
        provider_resource = PolicyProviderResource("pulumi:providers:aws", unknown_checking_proxy(provider),
                                                   "urn:pulumi:dev::p::pulumi:providers:aws::aws", "aws")
    args = ResourceValidationArgs(resource_type, unknown_checking_proxy(props), f"urn:pulumi:dev::p::{resource_type}::r",
                                  "r", OPTIONS, provider_resource, config)
    policy.validate(args, lambda message, urn=None: found.append(message))
    return found


def stack_resource(resource_type: str, name: str, props: dict[str, Any],
                   depends_on: dict[str, list[PolicyResource]] | None = None,
                   delete_before_replace: bool | None = None) -> PolicyResource:
    """A resource as a stack policy sees it; `depends_on` gives its property dependencies (property -> resources)."""
    options = OPTIONS
    if delete_before_replace is not None:
        options = PolicyResourceOptions(False, [], delete_before_replace, [], PolicyCustomTimeouts(0, 0, 0), [])
    return PolicyResource(resource_type, unknown_checking_proxy(props), f"urn:pulumi:dev::p::{resource_type}::{name}", name,
                          options, None, None, [], dict(depends_on or {}))


def stack_violations(policy_name: str, resources: list[PolicyResource]) -> list[tuple[str, str | None]]:
    """What one stack policy reports over a set of resources, as (message, urn of the resource it names)."""
    found: list[tuple[str, str | None]] = []
    pack.policy(policy_name).validate(StackValidationArgs(resources), lambda message, urn=None: found.append((message, urn)))
    return found


# --- compliant samples (cases change one setting of them) ------------------------------------------------------------

SG = types.SECURITY_GROUP
WEB_443 = {"protocol": "tcp", "fromPort": 443.0, "toPort": 443.0, "cidrBlocks": ["0.0.0.0/0"]}
OPEN_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "es:ESHttp*", "Resource": "arn:aws:es:::domain/d/*"}]})
SECURE_DOMAIN = {
    "clusterConfig": {"instanceType": "t3.small.search", "instanceCount": 1.0},
    "encryptAtRest": {"enabled": True},
    "nodeToNodeEncryption": {"enabled": True},
    "domainEndpointOptions": {"enforceHttps": True, "tlsSecurityPolicy": "Policy-Min-TLS-1-2-2019-07"},
    "advancedSecurityOptions": {"enabled": True, "internalUserDatabaseEnabled": True},
    "accessPolicies": json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "es:ESHttp*", "Resource": "arn:aws:es:::domain/d/*",
        "Condition": {"IpAddress": {"aws:SourceIp": ["52.28.10.0/24"]}}}]}),
}
SECURE_INSTANCE = {
    "instanceType": "t3.large",
    "metadataOptions": {"httpTokens": "required", "httpEndpoint": "enabled"},
    "rootBlockDevice": {"encrypted": True, "volumeSize": 60.0},
    "ebsBlockDevices": [{"deviceName": "/dev/sdf", "encrypted": True}],
}


def container(**overrides: Any) -> dict[str, Any]:
    base = {
        "name": "web",
        "image": "123456789012.dkr.ecr.eu-central-1.amazonaws.com/fraud-app:1.4.2",
        "resources": {"limits": {"cpu": "500m", "memory": "512Mi"}},
        "securityContext": {"runAsNonRoot": True, "readOnlyRootFilesystem": True},
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8000.0}},
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8000.0}},
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


LABELS = {"app.kubernetes.io/name": "fraud-web", "app.kubernetes.io/part-of": "fraud-detection"}


def deployment(*containers: dict[str, Any], pod_security: dict | None = None, replicas: float = 3.0) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": list(containers)}
    if pod_security:
        spec["securityContext"] = pod_security
    return {"metadata": {"labels": LABELS},
            "spec": {"replicas": replicas, "selector": {"matchLabels": LABELS}, "template": {"spec": spec}}}


def job(*containers: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"labels": LABELS},
            "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": list(containers)}}}}
