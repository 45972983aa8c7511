"""Every policy of the pack, case by case: each has at least one resource (or set of resources) that violates it and
one that passes, the way Pulumi's own packs are tested; a policy without a violating case fails
`test_every_policy_has_a_violating_case`, and every policy is run against our dev and ha stacks as well.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, NamedTuple

import pytest
from pulumi_policy import PolicyResource

from policies.fraud_policies import evaluate, pack
from policies.fraud_policies import resource_types as types
from tests.policy_support import (
    LABELS,
    OPEN_POLICY,
    SECURE_DOMAIN,
    SECURE_INSTANCE,
    SG,
    WEB_443,
    container,
    deployment,
    job,
    stack_resource,
    stack_violations,
    violations,
)


class ResourceCase(NamedTuple):
    policy: str
    resource_type: str
    good: dict[str, Any]
    bad: dict[str, Any]
    expected: str  # words the violation must contain
    config: dict[str, Any] | None = None
    bad_type: str | None = None  # when the violation is the type itself


class StackCase(NamedTuple):
    policy: str
    build: Callable[[], tuple[list[PolicyResource], list[PolicyResource]]]  # (passing resources, violating resources)
    expected: str
    culprit: str  # name of the resource the violation must point at ("" for the stack)


RESOURCE_CASES = [ResourceCase(*case) for case in [
    ("no-world-ingress", SG,
     {"ingress": [{"protocol": "tcp", "fromPort": 1521.0, "toPort": 1521.0, "cidrBlocks": ["10.40.0.0/16", "52.28.10.0/24"]}, WEB_443]},
     {"ingress": [{"protocol": "tcp", "fromPort": 22.0, "toPort": 22.0, "cidrBlocks": ["0.0.0.0/0"]}]}, "tcp 22 from 0.0.0.0/0", None),
    ("no-world-ingress", SG,
     {"ingress": [{"protocol": "tcp", "fromPort": 80.0, "toPort": 80.0, "ipv6CidrBlocks": ["::/0"]}]},
     {"ingress": [{"protocol": "-1", "fromPort": 0.0, "toPort": 0.0, "ipv6CidrBlocks": ["::/0"]}]}, "all traffic from ::/0", None),
    ("no-world-ingress", types.SECURITY_GROUP_RULE,
     {"type": "egress", "protocol": "-1", "fromPort": 0.0, "toPort": 0.0, "cidrBlocks": ["0.0.0.0/0"]},
     {"type": "ingress", "protocol": "tcp", "fromPort": 5439.0, "toPort": 5439.0, "cidrBlocks": ["0.0.0.0/0"]}, "tcp 5439", None),
    ("no-world-ingress", types.SECURITY_GROUP_RULE,
     {"type": "ingress", "protocol": "tcp", "fromPort": 443.0, "toPort": 443.0, "cidrBlocks": ["0.0.0.0/0"]},
     {"type": "ingress", "protocol": "tcp", "fromPort": 80.0, "toPort": 443.0, "cidrBlocks": ["0.0.0.0/0"]}, "tcp 80-443", None),
    ("no-world-ingress", types.VPC_INGRESS_RULE,
     {"ipProtocol": "tcp", "fromPort": 1521.0, "toPort": 1521.0, "cidrIpv4": "52.28.10.0/24"},
     {"ipProtocol": "tcp", "fromPort": 1521.0, "toPort": 1521.0, "cidrIpv6": "::/0"}, "tcp 1521 from ::/0", None),
    ("ec2-imdsv2-required", types.EC2_INSTANCE, SECURE_INSTANCE,
     {**SECURE_INSTANCE, "metadataOptions": {"httpTokens": "optional"}}, "'optional'", None),
    ("ebs-encrypted", types.EC2_INSTANCE, SECURE_INSTANCE,
     {**SECURE_INSTANCE, "rootBlockDevice": {"volumeSize": 60.0}}, "rootBlockDevice.encrypted", None),
    ("ebs-encrypted", types.EC2_INSTANCE, SECURE_INSTANCE,
     {**SECURE_INSTANCE, "ebsBlockDevices": [{"deviceName": "/dev/sdf", "encrypted": False}]}, "ebsBlockDevices[0]", None),
    ("ebs-encrypted", types.EBS_VOLUME, {"size": 10.0, "encrypted": True}, {"size": 10.0}, "encrypted", None),
    ("ec2-no-ssh-key", types.EC2_INSTANCE, SECURE_INSTANCE, {**SECURE_INSTANCE, "keyName": "ops"}, "keyName 'ops'", None),
    ("redshift-encrypted", types.REDSHIFT_CLUSTER, {"nodeType": "ra3.large", "encrypted": "true"},
     {"nodeType": "ra3.large", "encrypted": "false"}, "encrypted is false", None),
    ("redshift-public-needs-security-groups", types.REDSHIFT_CLUSTER,
     {"publiclyAccessible": True, "vpcSecurityGroupIds": ["sg-1"]}, {"publiclyAccessible": True}, "vpcSecurityGroupIds", None),
    ("opensearch-encryption", types.OPENSEARCH_DOMAIN, SECURE_DOMAIN,
     {**SECURE_DOMAIN, "encryptAtRest": {"enabled": False}}, "encryptAtRest", None),
    ("opensearch-encryption", types.OPENSEARCH_DOMAIN, SECURE_DOMAIN,
     {**SECURE_DOMAIN, "nodeToNodeEncryption": {"enabled": False}}, "nodeToNodeEncryption", None),
    ("opensearch-encryption", types.OPENSEARCH_DOMAIN, SECURE_DOMAIN,
     {**SECURE_DOMAIN, "domainEndpointOptions": {"enforceHttps": True, "tlsSecurityPolicy": "Policy-Min-TLS-1-0-2019-07"}},
     "TLS 1.2+", None),
    ("opensearch-encryption", types.OPENSEARCH_DOMAIN, SECURE_DOMAIN,
     {**SECURE_DOMAIN, "domainEndpointOptions": {"tlsSecurityPolicy": "Policy-Min-TLS-1-2-2019-07"}}, "enforceHttps", None),
    ("opensearch-fine-grained-access", types.OPENSEARCH_DOMAIN, SECURE_DOMAIN,
     {**SECURE_DOMAIN, "advancedSecurityOptions": {"enabled": False}}, "advancedSecurityOptions.enabled", None),
    ("opensearch-no-anonymous-access", types.OPENSEARCH_DOMAIN, SECURE_DOMAIN,
     {**SECURE_DOMAIN, "accessPolicies": OPEN_POLICY}, "Principal '*'", None),
    ("opensearch-no-anonymous-access", types.OPENSEARCH_DOMAIN_POLICY,
     {"domainName": "d", "accessPolicies": json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:role/app"}, "Action": "es:*"}]})},
     {"domainName": "d", "accessPolicies": json.dumps({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "es:*"}})},
     "Principal '*'", None),
    ("eks-public-endpoint-restricted", types.EKS_COMPONENT, {"publicAccessCidrs": ["198.51.100.7/32"]}, {}, "not set", None),
    ("eks-public-endpoint-restricted", types.EKS_COMPONENT, {"endpointPublicAccess": False},
     {"publicAccessCidrs": ["198.51.100.7/32", "0.0.0.0/0"]}, "includes 0.0.0.0/0", None),
    ("eks-public-endpoint-restricted", types.EKS_CLUSTER, {"vpcConfig": {"publicAccessCidrs": ["198.51.100.0/28"]}},
     {"vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}}, "vpcConfig.publicAccessCidrs", None),
    ("iam-no-wildcard-admin", "aws:iam/policy:Policy",
     {"policy": json.dumps({"Statement": [{"Effect": "Allow", "Action": ["ssm:GetParameter", "ec2:Describe*"], "Resource": "*"},
                                          {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::bucket/*"}]})},
     {"policy": json.dumps({"Statement": [{"Sid": "Admin", "Effect": "Allow", "Action": "*", "Resource": "*"}]})}, "Admin allows *", None),
    ("iam-no-wildcard-admin", "aws:iam/rolePolicy:RolePolicy",
     {"policy": json.dumps({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]})},
     {"policy": json.dumps({"Statement": [{"Effect": "Allow", "Action": ["s3:*"], "Resource": ["*"]}]})}, "s3:* on *", None),
    ("iam-no-wildcard-admin", types.IAM_ROLE,
     {"inlinePolicies": [{"name": "ok", "policy": json.dumps({"Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]})}]},
     {"inlinePolicies": [{"name": "bad", "policy": json.dumps({"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]})}]},
     "inlinePolicies[0]", None),
    ("k8s-configmap-no-secrets", types.CONFIG_MAP, {"data": {"ORACLE_HOST": "10.0.0.1", "ORACLE_USER": "SAMPLE", "LOG_LEVEL": "info"}},
     {"data": {"ORACLE_HOST": "10.0.0.1", "ORACLE_PASSWORD": "Welcome1"}}, "data.ORACLE_PASSWORD", None),
    ("k8s-configmap-no-secrets", types.CONFIG_MAP, {"data": {"API_URL": "https://api.example.com/v1"}},
     {"data": {"DATABASE_URL": "oracle://sample:Welcome1@db:1521/XEPDB1"}}, "URL with a password", None),
    ("k8s-configmap-no-secrets", types.CONFIG_MAP, {"data": {"settings.ini": "[app]\nmode=prod\n"}},
     {"data": {"settings.ini": "[db]\npassword = Welcome1\n"}}, "password assignment", None),
    ("k8s-deployment-probes", types.DEPLOYMENT, deployment(container()),
     deployment(container(livenessProbe=None)), "no livenessProbe", None),
    ("k8s-resource-limits", types.DEPLOYMENT, deployment(container()),
     deployment(container(resources={"limits": {"memory": "512Mi"}})), "no cpu limit", None),
    ("k8s-resource-limits", "kubernetes:batch/v1:Job", job(container(readinessProbe=None, livenessProbe=None)),
     job(container(resources=None)), "no cpu and no memory limit", None),
    ("k8s-run-as-non-root", types.DEPLOYMENT, deployment(container(securityContext=None), pod_security={"runAsNonRoot": True}),
     deployment(container(securityContext=None)), "may run as root", None),
    ("k8s-run-as-non-root", "kubernetes:core/v1:Pod",
     {"spec": {"containers": [container()]}},
     {"spec": {"securityContext": {"runAsNonRoot": True}, "containers": [container(securityContext={"runAsNonRoot": False})]}},
     "may run as root", None),
    ("k8s-image-pinned", types.DEPLOYMENT, deployment(container(image="registry.example.com:5000/app@sha256:" + "a" * 64)),
     deployment(container(image="registry.example.com:5000/app")), "has no tag", None),
    ("k8s-image-pinned", "kubernetes:batch/v1:Job", job(container(image="python:3.11.9-slim")),
     job(container(image="python:latest", imagePullPolicy="Always")), "moving tag latest", None),
    ("no-debug-mode", types.CONFIG_MAP, {"data": {"DJANGO_DEBUG": "false", "DEBUG_TOOLBAR_URL": "/x"}},
     {"data": {"DEBUG": "True"}}, "data.DEBUG", None),
    ("no-debug-mode", types.DEPLOYMENT, deployment(container(env=[{"name": "DJANGO_DEBUG", "value": "0"}])),
     deployment(container(env=[{"name": "DJANGO_DEBUG", "value": "1"}])), "DJANGO_DEBUG='1'", None),
    ("connector-no-plaintext-secrets", types.CONNECTOR,
     {"configNonsensitive": {"connector.class": "OracleXStreamSource", "database.user": "C##CDC", "output.key.format": "AVRO"},
      "configSensitive": {"database.password": "x"}},
     {"configNonsensitive": {"connector.class": "OpenSearchSink", "connection.password": "x"}}, "connection.password", None),
    ("connector-no-plaintext-secrets", types.CONNECTOR,
     {"configNonsensitive": {"instance.url": "https://search.example.com"}},
     {"configNonsensitive": {"connection.url": "https://admin:Welcome1@search.example.com"}}, "URL with a password", None),
    ("aws-required-tags", "aws:ec2/vpc:Vpc", {"cidrBlock": "10.0.0.0/16", "tags": {"project": "p", "stack": "s", "owner": "o"}},
     {"cidrBlock": "10.0.0.0/16", "tags": {"project": "p", "Name": "x"}}, "missing tags stack, owner", None),
    ("allowed-sizes", types.EC2_INSTANCE, {"instanceType": "t3.large"}, {"instanceType": "m5.24xlarge"}, "m5.24xlarge", None),
    ("allowed-sizes", types.REDSHIFT_CLUSTER, {"nodeType": "ra3.large"}, {"nodeType": "ra3.16xlarge"}, "nodeType", None),
    ("allowed-sizes", types.OPENSEARCH_DOMAIN, {"clusterConfig": {"instanceType": "t3.small.search"}},
     {"clusterConfig": {"instanceType": "t3.small.search", "dedicatedMasterEnabled": True, "dedicatedMasterType": "r6g.xlarge.search"}},
     "dedicatedMasterType", None),
    ("allowed-sizes", types.FLINK_POOL, {"maxCfu": 10.0}, {"maxCfu": 50.0}, "maxCfu 50", None),
    ("allowed-sizes", types.FLINK_POOL, {"maxCfu": 20.0}, {"maxCfu": 30.0}, "limit of 20", {"maxFlinkCfu": 20}),
    # --- added with the coverage table (policies/README.md) ---
    ("security-group-descriptions", SG,
     {"description": "Oracle: 1521 from Confluent Cloud and the VPC",
      "ingress": [{**WEB_443, "description": "HTTPS to the ALB"}],
      "egress": [{"protocol": "-1", "fromPort": 0.0, "toPort": 0.0, "cidrBlocks": ["0.0.0.0/0"], "description": "all outbound"}]},
     {"description": "Oracle", "ingress": [{**WEB_443, "description": "HTTPS"}],
      "egress": [{"protocol": "-1", "fromPort": 0.0, "toPort": 0.0, "cidrBlocks": ["0.0.0.0/0"]}]}, "egress[0] has no description"),
    ("security-group-descriptions", SG, {"description": "Redshift: 5439 from the VPC"},
     {"description": "Managed by Pulumi"}, "description is not set", None),
    ("security-group-descriptions", types.VPC_INGRESS_RULE,
     {"ipProtocol": "tcp", "fromPort": 5439.0, "toPort": 5439.0, "cidrIpv4": "10.0.0.0/16", "description": "from the VPC"},
     {"ipProtocol": "tcp", "fromPort": 5439.0, "toPort": 5439.0, "cidrIpv4": "10.0.0.0/16"}, "description is not set"),
    ("ecr-immutable-tags", types.ECR_REPOSITORY, {"imageTagMutability": "IMMUTABLE"}, {}, "unset means MUTABLE"),
    ("ecr-immutable-tags", types.ECR_REPOSITORY, {"imageTagMutability": "IMMUTABLE"},
     {"imageTagMutability": "MUTABLE"}, "'MUTABLE'"),
    ("ecr-scan-on-push", types.ECR_REPOSITORY, {"imageScanningConfiguration": {"scanOnPush": True}},
     {"imageScanningConfiguration": {"scanOnPush": False}}, "scanOnPush is not true"),
    ("ecr-kms-encryption", types.ECR_REPOSITORY, {"encryptionConfigurations": [{"encryptionType": "KMS"}]},
     {"encryptionConfigurations": [{"encryptionType": "AES256"}]}, "'AES256'"),
    ("redshift-require-ssl", types.REDSHIFT_PARAMETER_GROUP,
     {"family": "redshift-2.0", "parameters": [{"name": "require_ssl", "value": "true"}]},
     {"family": "redshift-2.0", "parameters": [{"name": "require_ssl", "value": "false"}]}, "require_ssl is 'false'"),
    ("redshift-require-ssl", types.REDSHIFT_PARAMETER_GROUP,
     {"family": "redshift-2.0", "parameters": [{"name": "enable_user_activity_logging", "value": "true"},
                                                {"name": "require_ssl", "value": "TRUE"}]},
     {"family": "redshift-2.0", "parameters": [{"name": "enable_user_activity_logging", "value": "true"}]},
     "do not set require_ssl"),
    ("redshift-allow-version-upgrade", types.REDSHIFT_CLUSTER, {"nodeType": "ra3.large"},
     {"nodeType": "ra3.large", "allowVersionUpgrade": False}, "allowVersionUpgrade is false"),
    ("kms-key-rotation", types.KMS_KEY, {"description": "encrypts Redshift", "enableKeyRotation": True},
     {"description": "encrypts Redshift"}, "enableKeyRotation is not true"),
    # Asymmetric keys cannot rotate automatically, so they pass without it; a symmetric one with it off does not.
    ("kms-key-rotation", types.KMS_KEY, {"customerMasterKeySpec": "RSA_2048", "keyUsage": "SIGN_VERIFY"},
     {"customerMasterKeySpec": "SYMMETRIC_DEFAULT", "enableKeyRotation": False}, "never rotate"),
    ("kms-no-policy-lockout-bypass", types.KMS_KEY, {"bypassPolicyLockoutSafetyCheck": False},
     {"bypassPolicyLockoutSafetyCheck": True}, "lock every principal out"),
    ("kms-key-description", types.KMS_KEY, {"description": "encrypts the Redshift cluster"}, {"description": " "},
     "description is not set"),
    ("eks-secrets-encryption", types.EKS_COMPONENT, {"encryptionConfigKeyArn": "arn:aws:kms:eu-central-1:1:key/k"}, {},
     "encryptionConfigKeyArn is not set"),
    ("eks-secrets-encryption", types.EKS_CLUSTER,
     {"encryptionConfig": {"provider": {"keyArn": "arn:aws:kms:eu-central-1:1:key/k"}, "resources": ["secrets"]}},
     {"encryptionConfig": {"provider": {"keyArn": "arn:aws:kms:eu-central-1:1:key/k"}, "resources": []}},
     "resources ['secrets']"),
    ("k8s-read-only-root-filesystem", types.DEPLOYMENT, deployment(container()),
     deployment(container(securityContext={"runAsNonRoot": True})), "can write its root filesystem"),
    ("k8s-read-only-root-filesystem", "kubernetes:batch/v1:Job", job(container()),
     {**job(container()), "spec": {"template": {"spec": {
         "containers": [container()], "initContainers": [container(name="migrate", securityContext={"readOnlyRootFilesystem": False})]}}}},
     "container 'migrate'"),
    ("k8s-recommended-labels", types.DEPLOYMENT, deployment(container()),
     {**deployment(container()), "metadata": {"labels": {"app": "web"}}}, "no app.kubernetes.io/name and no app.kubernetes.io/part-of"),
    ("k8s-recommended-labels", types.SERVICE, {"metadata": {"labels": LABELS}, "spec": {"type": "ClusterIP"}},
     {"metadata": {"labels": {"app.kubernetes.io/name": "fraud-web"}}, "spec": {"type": "ClusterIP"}}, "no app.kubernetes.io/part-of"),
    ("k8s-minimum-replicas", types.DEPLOYMENT, deployment(container()), deployment(container(), replicas=2.0), "at least 3"),
    ("k8s-minimum-replicas", types.DEPLOYMENT, deployment(container()), {"spec": {"template": {}}}, "spec.replicas is None"),
    ("k8s-minimum-replicas", types.STATEFUL_SET, deployment(container(), replicas=1.0), deployment(container(), replicas=0.0),
     "at least 1", {"minReplicas": 1}),
    ("k8s-no-load-balancer-service", types.SERVICE, {"spec": {"type": "ClusterIP"}}, {"spec": {"type": "LoadBalancer"}},
     "spec.type is LoadBalancer"),
    ("k8s-pdb-allows-disruption", types.POD_DISRUPTION_BUDGET, {"spec": {"maxUnavailable": 1.0}},
     {"spec": {"maxUnavailable": 0.0}}, "maxUnavailable is 0.0"),
    ("k8s-pdb-allows-disruption", types.POD_DISRUPTION_BUDGET, {"spec": {"maxUnavailable": "25%"}},
     {"spec": {"maxUnavailable": "0%"}}, "'0%'"),
    ("k8s-pdb-allows-disruption", types.POD_DISRUPTION_BUDGET, {"spec": {"minAvailable": "50%"}},
     {"spec": {"minAvailable": "100%"}}, "minAvailable is '100%'"),
    ("k8s-ga-apis-only", "kubernetes:networking.k8s.io/v1:Ingress", {}, {}, "networking.k8s.io/v1beta1 is a pre-release",
     None, "kubernetes:networking.k8s.io/v1beta1:Ingress"),
    ("k8s-ga-apis-only", "kubernetes:eks.amazonaws.com/v1:IngressClassParams", {}, {}, "flowcontrol.apiserver.k8s.io/v1alpha1",
     None, "kubernetes:flowcontrol.apiserver.k8s.io/v1alpha1:FlowSchema"),
    ("confluent-acls-scoped", types.KAFKA_ACL,
     {"resourceType": "TOPIC", "resourceName": "auth_user", "patternType": "LITERAL", "principal": "User:sa-1",
      "operation": "READ", "permission": "ALLOW"},
     {"resourceType": "TOPIC", "resourceName": "*", "patternType": "LITERAL", "principal": "User:sa-1",
      "operation": "READ", "permission": "ALLOW"}, "READ on TOPIC '*' covers every"),
    ("confluent-acls-scoped", types.KAFKA_ACL,
     {"resourceType": "TOPIC", "resourceName": "*", "patternType": "LITERAL", "principal": "User:sa-1",
      "operation": "WRITE", "permission": "DENY"},
     {"resourceType": "GROUP", "resourceName": "connect-lcc", "patternType": "PREFIXED", "principal": "User:*",
      "operation": "READ", "permission": "ALLOW"}, "principal is 'User:*'"),
]]


def _group(name: str, **props: Any) -> PolicyResource:
    return stack_resource(SG, name, {"vpcId": "vpc-1", "description": name, **props})


def _rule(name: str, group: PolicyResource, direction: str = "ingress", cidr: str = "10.0.0.0/16",
          port: float = 5439.0) -> PolicyResource:
    rule_type = types.VPC_INGRESS_RULE if direction == "ingress" else types.VPC_EGRESS_RULE
    return stack_resource(rule_type, name, {"ipProtocol": "tcp", "fromPort": port, "toPort": port, "cidrIpv4": cidr},
                          depends_on={"securityGroupId": [group]})


def _connector(name: str, config: dict[str, str]) -> PolicyResource:
    return stack_resource(types.CONNECTOR, name, {"configNonsensitive": config})


ORG_CRN = "crn://confluent.cloud/organization=org-1"


def _binding(name: str, role: str, principal: str, crn: str) -> PolicyResource:
    return stack_resource(types.ROLE_BINDING, name, {"roleName": role, "principal": principal, "crnPattern": crn})


def _kafka(name: str, kind: str, environment_id: str) -> PolicyResource:
    return stack_resource(types.KAFKA_CLUSTER, name, {kind: {}, "environment": {"id": environment_id}})


def _web_ingress():
    group, lonely = _group("alb-sg", ingress=[WEB_443]), _group("lonely-sg", ingress=[WEB_443])
    balancer = stack_resource("aws:lb/loadBalancer:LoadBalancer", "alb", {"securityGroups": ["alb-sg-id"]},
                              depends_on={"securityGroups": [group]})
    return [group, balancer], [group, lonely, balancer]


def _public_redshift():
    closed = _group("redshift-sg", ingress=[{"protocol": "tcp", "fromPort": 5439.0, "toPort": 5439.0, "cidrBlocks": ["52.28.10.0/24"]}])
    cluster = stack_resource(types.REDSHIFT_CLUSTER, "dwh", {"publiclyAccessible": True, "vpcSecurityGroupIds": ["redshift-sg-id"]},
                             depends_on={"vpcSecurityGroupIds": [closed]})
    return [closed, cluster], [closed, _rule("open-5439", closed, cidr="0.0.0.0/0"), cluster]


def _sink_logins():
    cluster = stack_resource(types.REDSHIFT_CLUSTER, "dwh", {"masterUsername": "fraud_admin"})
    return ([cluster, _connector("sink", {"connector.class": "RedshiftSink", "aws.redshift.user": "fraud_sink"})],
            [cluster, _connector("admin-sink", {"connector.class": "RedshiftSink", "aws.redshift.user": "fraud_admin"})])


def _flink_tables():
    alter = stack_resource(types.FLINK_STATEMENT, "cdc-options", {"statement": "ALTER TABLE t SET ('a' = 'b')"})
    table = stack_resource(types.FLINK_MATERIALIZED_TABLE, "flags", {"displayName": "flags", "query": "SELECT 1 AS x"},
                           delete_before_replace=True)
    typed_in = stack_resource(types.FLINK_STATEMENT, "typed-in", {"statement": "CREATE TABLE flags AS SELECT 1 AS x"},
                              delete_before_replace=True)
    return [alter, table], [typed_in]


def _sink_topics():
    source = _connector("cdc", {"connector.class": "OracleXStreamSource", "topic.prefix": "fd",
                                "table.include.list": "SAMPLE[.]AUTH_USER"})
    return ([source, _connector("sink", {"connector.class": "RedshiftSink", "topics": "fd.SAMPLE.AUTH_USER"})],
            [source, _connector("orphan-sink", {"connector.class": "RedshiftSink", "topics": "fd.SAMPLE.ORDERS"})])


def _mixed_rules():
    inline = _group("oracle-sg", ingress=[{"protocol": "tcp", "fromPort": 1521.0, "toPort": 1521.0, "cidrBlocks": ["10.0.0.0/16"]}])
    standalone_only = _group("redshift-sg")
    return ([inline, standalone_only, _rule("redshift-from-vpc", standalone_only)],
            [inline, _rule("oracle-from-confluent", inline, cidr="52.28.10.0/24", port=1521.0)])


def _refreshed_rules():
    """After a refresh a group's state lists its standalone rules too: those alone are no conflict."""
    group = _group("redshift-sg", ingress=[{"protocol": "tcp", "fromPort": 5439.0, "toPort": 5439.0,
                                            "cidrBlocks": ["10.0.0.0/16"]}])
    extra = _group("redshift-sg", ingress=[{"protocol": "tcp", "fromPort": 5439.0, "toPort": 5439.0,
                                            "cidrBlocks": ["10.0.0.0/16", "52.28.10.0/24"]}])
    return [group, _rule("from-vpc", group)], [extra, _rule("from-vpc", extra)]


def _role_policies():
    role = stack_resource(types.IAM_ROLE, "oracle-role", {"assumeRolePolicy": "{}"})
    # A refreshed role lists the RolePolicy it was given as one of its inlinePolicies: that alone is no conflict.
    refreshed = stack_resource(types.IAM_ROLE, "node-role", {"inlinePolicies": [{"name": "ssm", "policy": "{}"}]})
    own = stack_resource(types.IAM_ROLE, "app-role", {"inlinePolicies": [{"name": "own", "policy": "{}"}]})

    def role_policy(name: str, target: PolicyResource) -> PolicyResource:
        return stack_resource(types.IAM_ROLE_POLICY, name, {"name": name, "policy": "{}"}, depends_on={"role": [target]})

    return ([role, role_policy("ssm-for-oracle", role), refreshed, role_policy("ssm", refreshed)],
            [own, role_policy("extra", own)])


def _connector_admin():
    cdc = _connector("cdc", {"connector.class": "OracleXStreamSource", "kafka.service.account.id": "sa-cdc"})
    cluster_admin = _binding("cdc-cluster-admin", "CloudClusterAdmin", "User:sa-cdc",
                             f"{ORG_CRN}/environment=env-1/cloud-cluster=lkc-1")
    flink_admin = _binding("flink-env-admin", "EnvironmentAdmin", "User:sa-flink", f"{ORG_CRN}/environment=env-1")
    env_admin = _binding("cdc-env-admin", "EnvironmentAdmin", "User:sa-cdc", f"{ORG_CRN}/environment=env-1")
    return [cdc, cluster_admin, flink_admin], [cdc, env_admin]


def _connector_account_admin():
    sink = _connector("sink", {"connector.class": "RedshiftSink", "kafka.service.account.id": "sa-sink"})
    reader = _binding("sink-subjects-read", "DeveloperRead", "User:sa-sink", f"{ORG_CRN}/environment=env-1/schema-registry=lsrc-1")
    return [sink, reader], [sink, _binding("sink-account-admin", "AccountAdmin", "User:sa-sink", ORG_CRN)]


def _environment_admin():
    basic = _kafka("dev-kafka", "basic", "env-dev")
    standard = _kafka("ha-kafka", "standard", "env-ha")
    admin_dev = _binding("flink-admin-dev", "EnvironmentAdmin", "User:sa-flink", f"{ORG_CRN}/environment=env-dev")
    admin_ha = _binding("flink-admin-ha", "EnvironmentAdmin", "User:sa-flink", f"{ORG_CRN}/environment=env-ha")
    return [basic, standard, admin_dev], [basic, standard, admin_ha]


def _organization_admin():
    """An organization-wide admin role reaches every cluster of the stack."""
    basic, standard = _kafka("dev-kafka", "basic", "env-dev"), _kafka("ha-kafka", "standard", "env-ha")
    return [basic, _binding("org-admin", "OrganizationAdmin", "User:sa-ops", ORG_CRN)], \
        [basic, standard, _binding("org-admin", "OrganizationAdmin", "User:sa-ops", ORG_CRN)]


STACK_CASES = [
    StackCase("world-web-ingress-only-on-load-balancers", _web_ingress, "not attached to a load balancer", "lonely-sg"),
    StackCase("redshift-public-security-groups-closed", _public_redshift, "tcp 5439 from 0.0.0.0/0 (open-5439)", "dwh"),
    StackCase("sink-connectors-not-admin", _sink_logins, "admin user 'fraud_admin'", "admin-sink"),
    StackCase("flink-tables-evolve-in-place", _flink_tables, "creates flags with a statement", "typed-in"),
    StackCase("sink-topics-have-producers", _sink_topics, "'fd.SAMPLE.ORDERS'", "orphan-sink"),
    StackCase("security-group-rules-not-mixed", _mixed_rules, "standalone ingress rules (oracle-from-confluent)", "oracle-sg"),
    StackCase("security-group-rules-not-mixed", _refreshed_rules, "declares ingress rules inline", "redshift-sg"),
    StackCase("iam-role-policies-not-mixed", _role_policies, "inlinePolicies ['own']", "app-role"),
    StackCase("confluent-connector-accounts-not-admin", _connector_admin, "EnvironmentAdmin", "cdc-env-admin"),
    StackCase("confluent-connector-accounts-not-admin", _connector_account_admin, "AccountAdmin", "sink-account-admin"),
    StackCase("confluent-environment-admin-only-on-basic", _environment_admin, "over ha-kafka", "flink-admin-ha"),
    StackCase("confluent-environment-admin-only-on-basic", _organization_admin, "OrganizationAdmin over ha-kafka", "org-admin"),
]


# --- the cases run ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", RESOURCE_CASES, ids=[f"{c.policy}-{i}" for i, c in enumerate(RESOURCE_CASES)])
def test_resource_policy_passes_its_compliant_case_and_catches_its_violating_one(case: ResourceCase):
    assert violations(case.policy, case.resource_type, case.good, case.config) == []
    found = violations(case.policy, case.bad_type or case.resource_type, case.bad, case.config)
    assert found and any(case.expected in message for message in found), found


@pytest.mark.parametrize("case", STACK_CASES, ids=[f"{c.policy}-{i}" for i, c in enumerate(STACK_CASES)])
def test_stack_policy_passes_its_compliant_case_and_catches_its_violating_one(case: StackCase):
    good, bad = case.build()
    assert stack_violations(case.policy, good) == []
    found = stack_violations(case.policy, bad)
    culprit = {r.urn for r in bad if r.name == case.culprit}
    assert found and any(case.expected in message and urn in culprit for message, urn in found), found


@pytest.mark.parametrize("policy_name", pack.POLICY_NAMES)
def test_every_policy_has_a_violating_case(policy_name: str):
    covered = {c.policy for c in RESOURCE_CASES} | {c.policy for c in STACK_CASES}
    assert policy_name in covered, f"{policy_name} has no violating case: add one to RESOURCE_CASES or STACK_CASES"


# --- and on our own stacks ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def strict_reports(dev, ha) -> dict[str, evaluate.Report]:
    """Every policy as mandatory, with each stack's own policy properties (sizes, SSH, replicas)."""
    reports = {}
    for stack, program in (("dev", dev), ("ha", ha)):
        properties = evaluate.load_config(evaluate.config_path(stack)).properties
        reports[stack] = evaluate.evaluate_program(program, stack, evaluate.PackConfig(properties=properties))
    return reports


@pytest.mark.parametrize("policy_name", pack.POLICY_NAMES)
def test_every_policy_passes_our_stacks(policy_name: str, strict_reports):
    for stack, report in strict_reports.items():
        flagged = {f.resource_name or "the stack" for f in report.findings if f.policy == policy_name}
        assert not flagged, (stack, flagged)


# --- the README says the same ------------------------------------------------------------------------------------

POLICY_README = (evaluate.PACK_DIR / "README.md").read_text()


def _table_rows(heading: str) -> list[list[str]]:
    """The body rows of the first table after a heading, as lists of cells."""
    lines = POLICY_README.split(heading, 1)[1].splitlines()
    rows = []
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return rows


def test_readme_shows_every_policy_with_its_level_in_each_stack():
    configs = {stack: evaluate.load_config(evaluate.config_path(stack)) for stack in ("dev", "ha")}
    shown = {row[0].strip("`"): (row[1], row[2]) for row in _table_rows("The levels of our two stacks")}
    expected = {p.name: (configs["dev"].level(p).value, configs["ha"].level(p).value) for p in pack.POLICIES}
    assert shown == expected


@pytest.mark.parametrize("heading", ["## Coverage against Pulumi's packs", "### Confluent Cloud"])
def test_every_coverage_row_names_a_policy_of_the_pack_or_says_why_not(heading: str):
    rows = _table_rows(heading)
    assert len(rows) > 5
    for row in rows:
        named = set(re.findall(r"`([a-z0-9-]+)`", row[-1])) & set(pack.POLICY_NAMES)
        assert named or row[-1].startswith("Does not apply:"), row
