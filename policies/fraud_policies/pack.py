"""The fraud-detection pack: its name, its default enforcement and the list of its policies, in one place.

The rules themselves live by domain: ``network``, ``compute_and_images``, ``data_stores``, ``iam``, ``kms``,
``kubernetes``, ``confluent`` and ``tags_and_sizes``. Resource rules read the camelCase inputs Pulumi hands a policy pack
(``args.props``), the resource's provider (``args.provider.props``, where the AWS default tags live) and their
per-stack config (``args.get_config()``, from ``policies/config.<stack>.json``). Stack rules read every resource
with its dependencies, which is how a security group is found from an id. Nothing here imports a provider SDK:
the pack runs on its own.
"""
from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ResourceValidationPolicy,
    StackValidationPolicy,
)

from .compute_and_images import (
    SSH_DEFAULTS,
    ebs_encrypted,
    ec2_imdsv2,
    ec2_no_ssh_key,
    ecr_immutable_tags,
    ecr_kms_encryption,
    ecr_scan_on_push,
    image_pinned,
)
from .confluent import (
    acls_scoped,
    connector_accounts_not_admin,
    connector_no_plaintext_secrets,
    environment_admin_only_on_basic,
    flink_tables_evolve_in_place,
    sink_topics_have_producers,
    sinks_not_admin,
)
from .data_stores import (
    opensearch_encryption,
    opensearch_fine_grained_access,
    opensearch_no_anonymous_access,
    redshift_allow_version_upgrade,
    redshift_encrypted,
    redshift_public_needs_security_groups,
    redshift_require_ssl,
)
from .iam import iam_no_wildcard_admin, iam_role_policies_not_mixed
from .kms import kms_key_description, kms_key_rotation, kms_no_policy_lockout_bypass
from .kubernetes import (
    REPLICA_DEFAULTS,
    configmap_no_secrets,
    container_limits,
    container_non_root,
    deployment_probes,
    eks_public_endpoint_restricted,
    eks_secrets_encryption,
    ga_apis_only,
    minimum_replicas,
    no_debug_mode,
    no_load_balancer_service,
    pdb_allows_disruption,
    read_only_root_filesystem,
    recommended_labels,
)
from .network import (
    no_world_ingress,
    public_redshift_groups_closed,
    security_group_descriptions,
    security_group_rules_not_mixed,
    web_ingress_only_on_load_balancers,
)
from .tags_and_sizes import SIZE_DEFAULTS, TAG_DEFAULTS, allowed_sizes, aws_required_tags

PACK_NAME = "fraud-detection-guardrails"
PACK_ENFORCEMENT = EnforcementLevel.MANDATORY

_STRING_LIST = {"type": "array", "items": {"type": "string"}}


def _resource(name: str, description: str, validate, schema: PolicyConfigSchema | None = None) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(name=name, description=description, validate=validate, config_schema=schema)


POLICIES: list[Policy] = [
    _resource("no-world-ingress",
              "Security groups allow no ingress from 0.0.0.0/0 or ::/0 except HTTP/HTTPS (80, 443).",
              no_world_ingress),
    StackValidationPolicy(
        name="world-web-ingress-only-on-load-balancers",
        description="HTTP/HTTPS open to the internet only on security groups attached to a load balancer.",
        validate=web_ingress_only_on_load_balancers),
    StackValidationPolicy(
        name="security-group-rules-not-mixed",
        description="A security group's rules of one direction are declared either inline or as standalone rules, "
                    "never both.",
        validate=security_group_rules_not_mixed),
    _resource("security-group-descriptions", "Security groups and each of their rules carry a description.",
              security_group_descriptions),
    _resource("ec2-imdsv2-required", "EC2 instances require IMDSv2 (metadataOptions.httpTokens = required).",
              ec2_imdsv2),
    _resource("ebs-encrypted", "EC2 root and EBS volumes are encrypted.", ebs_encrypted),
    _resource("ec2-no-ssh-key", "No EC2 key pair unless the stack allows SSH (Session Manager is the way in).",
              ec2_no_ssh_key,
              PolicyConfigSchema({"allowSsh": {"type": "boolean", "default": SSH_DEFAULTS["allowSsh"]}})),
    _resource("ecr-immutable-tags", "ECR repositories have immutable image tags.", ecr_immutable_tags),
    _resource("ecr-scan-on-push", "ECR repositories scan images on push.", ecr_scan_on_push),
    _resource("ecr-kms-encryption", "ECR repositories encrypt images with KMS.", ecr_kms_encryption),
    _resource("redshift-encrypted", "Redshift clusters are encrypted at rest.", redshift_encrypted),
    _resource("redshift-require-ssl", "Redshift parameter groups set require_ssl to true.", redshift_require_ssl),
    _resource("redshift-allow-version-upgrade", "Redshift clusters take engine version upgrades.",
              redshift_allow_version_upgrade),
    _resource("redshift-public-needs-security-groups",
              "A publicly accessible Redshift cluster names the security groups that restrict it.",
              redshift_public_needs_security_groups),
    StackValidationPolicy(
        name="redshift-public-security-groups-closed",
        description="The security groups of a publicly accessible Redshift cluster are declared here and closed to the internet.",
        validate=public_redshift_groups_closed),
    _resource("opensearch-encryption",
              "OpenSearch encrypts at rest and between nodes and serves HTTPS only with TLS 1.2+.",
              opensearch_encryption),
    _resource("opensearch-fine-grained-access",
              "OpenSearch has fine-grained access control on and anonymous access off.",
              opensearch_fine_grained_access),
    _resource("opensearch-no-anonymous-access",
              "OpenSearch access policies grant nothing to Principal '*' without a Condition.",
              opensearch_no_anonymous_access),
    _resource("eks-public-endpoint-restricted",
              "The EKS public API endpoint is off or limited to named CIDRs (never 0.0.0.0/0).",
              eks_public_endpoint_restricted),
    _resource("eks-secrets-encryption", "EKS envelope-encrypts Kubernetes Secrets with a KMS key.", eks_secrets_encryption),
    _resource("iam-no-wildcard-admin", "IAM policies grant no wildcard actions on every resource.",
              iam_no_wildcard_admin),
    StackValidationPolicy(
        name="iam-role-policies-not-mixed",
        description="A role gets its policies either from its own inlinePolicies/managedPolicyArns or from "
                    "RolePolicy/attachment resources, never both.",
        validate=iam_role_policies_not_mixed),
    _resource("kms-key-rotation", "Symmetric customer-managed KMS keys rotate their key material.", kms_key_rotation),
    _resource("kms-no-policy-lockout-bypass", "KMS keys keep the key-policy lockout safety check.",
              kms_no_policy_lockout_bypass),
    _resource("kms-key-description", "KMS keys say what they encrypt.", kms_key_description),
    _resource("k8s-configmap-no-secrets", "ConfigMaps hold no passwords, secrets, keys or tokens.",
              configmap_no_secrets),
    _resource("k8s-deployment-probes", "Deployment containers have readiness and liveness probes.",
              deployment_probes),
    _resource("k8s-resource-limits", "Containers have CPU and memory limits.", container_limits),
    _resource("k8s-run-as-non-root", "Containers run with runAsNonRoot.", container_non_root),
    _resource("k8s-read-only-root-filesystem", "Containers run on a read-only root filesystem.", read_only_root_filesystem),
    _resource("k8s-recommended-labels", "Workloads and Services carry app.kubernetes.io/name and part-of labels.",
              recommended_labels),
    _resource("k8s-minimum-replicas", "Deployments, ReplicaSets and StatefulSets run at least the stack's minimum replicas.",
              minimum_replicas,
              PolicyConfigSchema({"minReplicas": {"type": "integer", "minimum": 1, "default": REPLICA_DEFAULTS["minReplicas"]}})),
    _resource("k8s-no-load-balancer-service", "Services are not of type LoadBalancer (the Ingress fronts the app).",
              no_load_balancer_service),
    _resource("k8s-pdb-allows-disruption", "PodDisruptionBudgets allow at least one voluntary eviction.",
              pdb_allows_disruption),
    _resource("k8s-ga-apis-only", "Kubernetes objects use GA API versions, no alpha or beta.", ga_apis_only),
    _resource("k8s-image-pinned", "Container images are pinned to a version tag or digest (no latest, no untagged).",
              image_pinned),
    _resource("no-debug-mode", "No DEBUG=true in ConfigMaps or container environments.", no_debug_mode),
    _resource("connector-no-plaintext-secrets",
              "Confluent connectors keep passwords, secrets and keys out of configNonsensitive.",
              connector_no_plaintext_secrets),
    StackValidationPolicy(
        name="sink-connectors-not-admin",
        description="Redshift and OpenSearch sink connectors do not log in as the admin user of their target.",
        validate=sinks_not_admin),
    StackValidationPolicy(
        name="flink-tables-evolve-in-place",
        description="Flink tables are materialized tables (delete-before-replace); no Flink statement creates, drops "
                    "or fills a table.",
        validate=flink_tables_evolve_in_place),
    StackValidationPolicy(
        name="sink-topics-have-producers",
        description="Every topic a sink connector reads is produced by a Flink table or the CDC source of the stack.",
        validate=sink_topics_have_producers),
    StackValidationPolicy(
        name="confluent-connector-accounts-not-admin",
        description="No role binding makes a connector's service account OrganizationAdmin, AccountAdmin or "
                    "EnvironmentAdmin.",
        validate=connector_accounts_not_admin),
    _resource("confluent-acls-scoped",
              "Kafka ACLs allow one principal on named or prefixed resources, never '*'.", acls_scoped),
    StackValidationPolicy(
        name="confluent-environment-admin-only-on-basic",
        description="EnvironmentAdmin (or OrganizationAdmin) is bound only where every Kafka cluster in its scope is "
                    "Basic; Standard and larger clusters get role bindings on single topics instead.",
        validate=environment_admin_only_on_basic),
    _resource("aws-required-tags",
              "Taggable AWS resources carry the project, stack and owner tags (own tags or provider default tags).",
              aws_required_tags,
              PolicyConfigSchema({"requiredTags": {**_STRING_LIST, "default": TAG_DEFAULTS["requiredTags"]}})),
    _resource("allowed-sizes",
              "EC2, Redshift and OpenSearch sizes and the Flink CFU ceiling are within the stack's allowed list.",
              allowed_sizes,
              PolicyConfigSchema({
                  "ec2InstanceTypes": {**_STRING_LIST, "default": SIZE_DEFAULTS["ec2InstanceTypes"]},
                  "redshiftNodeTypes": {**_STRING_LIST, "default": SIZE_DEFAULTS["redshiftNodeTypes"]},
                  "opensearchInstanceTypes": {**_STRING_LIST, "default": SIZE_DEFAULTS["opensearchInstanceTypes"]},
                  "maxFlinkCfu": {"type": "integer", "minimum": 1, "default": SIZE_DEFAULTS["maxFlinkCfu"]},
              })),
]

POLICY_NAMES = [policy.name for policy in POLICIES]


def policy(name: str) -> Policy:
    """One policy of the pack by name (tests and the evaluator use it)."""
    found = [p for p in POLICIES if p.name == name]
    if not found:
        raise KeyError(f"no policy {name!r} in the pack; known: {', '.join(POLICY_NAMES)}")
    return found[0]
