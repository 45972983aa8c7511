"""EksApp: the fraud demo web app on an EKS Auto Mode cluster, behind an internet-facing ALB.

Cluster: pulumi-eks with Auto Mode (AWS runs the nodes, CoreDNS, the VPC CNI and the load balancer controller),
API authentication (access entries), a public API endpoint limited to ``eksPublicAccessCidrs`` plus the private
endpoint, and Kubernetes Secrets envelope-encrypted with a KMS key of the stack. The cluster gets only the
private subnets: Auto Mode's default NodeClass launches nodes into the cluster's subnets, so nodes and pods stay
private, while the ALB finds the public subnets by their ``kubernetes.io/role/elb`` tag.

Access: pulumi-eks 4 always creates the cluster with ``bootstrapClusterCreatorAdminPermissions``, so the IAM
principal that runs ``pulumi up`` already holds an admin access entry. A second, explicit entry for the same
principal fails with 409 ResourceInUseException (pulumi/pulumi-eks#2373), so none is declared here; the principal
is exported instead (``admin_principal_arn``). Credentials of an assumed role report an STS ARN
(``arn:aws:sts::<acct>:assumed-role/<role>/<session>``) that EKS does not accept as a principal and that has lost
the role's path; ``aws.iam.get_session_context`` turns it into the IAM role ARN (path included) that the
bootstrap entry is created for. Other admins need their own entries under their own ARNs.

Image: ``appImage`` set means that image is used as is; empty means ``app/`` is built for linux/amd64 and pushed
to a private, immutable ECR repository, tagged by a hash of what git records of the build context (see "content
tag" below for why not more). The tag (and the migration Job's name) changes exactly when the app does, and a tag
that is already in the repository is used by digest and never built or pushed again, so no later `up` can fail
on ECR's immutability.

Kubernetes: everything is on the cluster's own provider, parented here and awaited (no skipAwait), so a destroy
removes the Ingress (and with it the ALB and its ENIs) before the cluster and the VPC go. Secrets are only in a
Secret read through ``envFrom``; the Job running ``migrate`` then ``seed`` waits for the Oracle gate and the
Deployment waits for the Job. Django's ALLOWED_HOSTS accepts any ``*.elb.amazonaws.com`` name because the ALB's
name is only known once the Ingress exists, which in turn waits for ready pods.
"""
from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import pulumi
import pulumi_aws as aws
import pulumi_docker_build as docker_build
import pulumi_eks as eks
import pulumi_kubernetes as k8s
import pulumi_random as random

from settings import AppSettings

APP_DIR = Path(__file__).resolve().parent.parent / "app"
APP_CONTEXT = "app"  # relative to the project directory, where Pulumi runs the program
NAMESPACE = "fraud-demo"
APP_LABELS = {"app.kubernetes.io/name": "fraud-web", "app.kubernetes.io/part-of": "fraud-detection"}
HTTP_PORT = 8000
HEALTH_PATH = "/healthz"
APP_UID = 10001
ALB_CONTROLLER = "eks.amazonaws.com/alb"
ALB_CLASS = "internet-alb"  # the IngressClass and its IngressClassParams (both cluster-scoped)
# The ALB's DNS name is <name>.<region>.elb.amazonaws.com; "localhost" serves `kubectl port-forward`.
ALLOWED_HOSTS = ".elb.amazonaws.com,localhost"
TAG_LENGTH = 16  # hex characters of the content hash used as the image tag
PLATFORM = "linux/amd64"  # Auto Mode's general-purpose node pool is amd64 only
# Never part of the image whatever app/.dockerignore says (caches and local databases).
ALWAYS_IGNORED = ("**/__pycache__", "**/*.pyc", "**/db.sqlite3")
# Docker sends these even when .dockerignore lists them: they define the build.
BUILD_DEFINITION = ("Dockerfile", ".dockerignore")


# --- content tag ------------------------------------------------------------------------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern:
    """A .dockerignore pattern as a regex over slash-separated paths (Go filepath.Match plus ``**``)."""
    parts: list[str] = []
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            parts.append("(?:.*/)?")
            index += 3
        elif pattern.startswith("**", index):
            parts.append(".*")
            index += 2
        elif pattern[index] == "*":
            parts.append("[^/]*")
            index += 1
        elif pattern[index] == "?":
            parts.append("[^/]")
            index += 1
        elif pattern[index] == "[" and "]" in pattern[index + 1 :]:
            end = pattern.index("]", index + 1)
            members = pattern[index + 1 : end]
            if members.startswith(("!", "^")):
                members = "^" + members[1:]
            parts.append("[" + members.replace("\\", "\\\\") + "]")
            index = end + 1
        else:
            parts.append(re.escape(pattern[index]))
            index += 1
    return re.compile("".join(parts))


def ignore_rules(directory: Path) -> list[tuple[bool, re.Pattern]]:
    """(excludes, regex) for the fixed ignores, then each line of the directory's .dockerignore in order."""
    lines = list(ALWAYS_IGNORED)
    dockerignore = directory / ".dockerignore"
    if dockerignore.exists():
        lines += dockerignore.read_text().splitlines()
    rules = []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = os.path.normpath(line.lstrip("!").strip()).replace(os.sep, "/").lstrip("/")
        rules.append((not negated, _pattern_regex(pattern)))
    return rules


def is_ignored(relative_path: str, rules: Sequence[tuple[bool, re.Pattern]]) -> bool:
    """Docker's rule: the last pattern matching the path, or one of its parent directories, decides."""
    parts = relative_path.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    ignored = False
    for excludes, regex in rules:
        if any(regex.fullmatch(candidate) for candidate in candidates):
            ignored = excludes
    return ignored


def context_files(directory: Path) -> list[str]:
    """The build context's files (slash-separated, relative, sorted), as Docker would send them."""
    rules = ignore_rules(directory)
    found = []
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for file_name in files:
            relative = (Path(root) / file_name).relative_to(directory).as_posix()
            if relative in BUILD_DEFINITION or not is_ignored(relative, rules):
                found.append(relative)
    return sorted(found)


# Why the tag alone cannot keep a second `up` safe, and what does (sources read 2026-12-01):
# - pulumi-docker-build 0.0.22 (the pinned provider) decides in Image.Diff whether to build again by hashing the
#   build context: provider/internal/context.go hashFile writes each file's contents, its path and
#   ``fileMode.String()`` (every permission bit), plus the Dockerfile. Any difference, or a change to the tags,
#   is an Update, and Update builds and pushes (image.go).
#   https://github.com/pulumi/pulumi-docker-build/blob/v0.0.22/provider/internal/context.go
# - The ECR repository is IMMUTABLE: pushing a tag that exists fails with ImageTagAlreadyExistsException
#   (https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html).
# A tag that covered every mode bit would still be pushed again after a revert to an earlier version, or after an
# `up` interrupted between the push and the state write; and a checkout made under another umask (git keeps only
# the executable bit) would rebuild and roll the pods for nothing.
# So the tag covers what git records (path, contents, executable bit) and the build platform, and the program
# looks the tag up in the repository before declaring a build: a tag that is there is used by digest and no
# Image is declared at all, whatever docker-build's hash would say. The Image that did the push is
# retain_on_delete, because docker-build's Delete removes the pushed manifest (image.go Delete, client.go
# ManifestDelete) that the pods still run; `pulumi destroy` removes the images with the repository.


def content_tag(directory: Path, platform: str = PLATFORM) -> str:
    """A tag that changes when, and only when, a file of the build context changes, appears, disappears or gains or
    loses its executable bit, or the build is for another platform. Other mode bits do not count."""
    digest = hashlib.sha256(platform.encode() + b"\0")
    for relative in context_files(directory):
        path = directory / relative
        executable = bool(path.stat().st_mode & stat.S_IXUSR)  # git's own rule for recording a file as 100755
        digest.update(relative.encode() + (b"\0x" if executable else b"\0-"))
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:TAG_LENGTH]


def pushed_digest(repository_name: str, tag: str, opts: pulumi.InvokeOptions) -> str | None:
    """The digest ECR holds under ``tag``, or None when the repository or the tag is not there (yet)."""
    if repository_name not in aws.ecr.get_repositories(opts=opts).names:
        return None
    for image in aws.ecr.get_images(repository_name=repository_name, opts=opts).image_ids:
        if image.image_tag == tag:
            return image.image_digest
    return None


# --- component --------------------------------------------------------------------------------------------------------


@dataclass
class EksAppArgs:
    settings: AppSettings
    vpc_id: pulumi.Input[str]
    public_subnet_ids: pulumi.Input[list[str]]  # the ALB's: tagged kubernetes.io/role/elb by NetworkStack
    private_subnet_ids: pulumi.Input[list[str]]  # the control plane's ENIs, the nodes and the pods
    oracle_host: pulumi.Input[str]  # private IP: pods reach the database inside the VPC
    oracle_port: pulumi.Input[int]
    oracle_service_name: pulumi.Input[str]  # the PDB, XEPDB1
    oracle_user: pulumi.Input[str]
    oracle_password: pulumi.Input[str]
    oracle_ready: pulumi.Resource  # the Oracle readiness gate


def _security_context() -> dict:
    return {
        "runAsNonRoot": True,
        "runAsUser": APP_UID,
        "runAsGroup": APP_UID,
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _container(name: str, image: pulumi.Input[str], env_from: list, resources: dict, **extra) -> dict:
    return {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "envFrom": env_from,
        "resources": resources,
        "securityContext": _security_context(),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
        **extra,
    }


def _pod_spec(containers: list, **extra) -> dict:
    return {
        "automountServiceAccountToken": False,  # the app never talks to the Kubernetes API
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": APP_UID,
            "runAsGroup": APP_UID,
            "fsGroup": APP_UID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        # The image is built for linux/amd64 (Auto Mode's general-purpose pool is amd64 only).
        "nodeSelector": {"kubernetes.io/arch": "amd64"},
        "containers": containers,
        # The root filesystem is read-only; gunicorn's heartbeat files and Python's temp files go here.
        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
        **extra,
    }


WEB_RESOURCES = {"requests": {"cpu": "250m", "memory": "384Mi"}, "limits": {"cpu": "1", "memory": "768Mi"}}
JOB_RESOURCES = {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}


class EksApp(pulumi.ComponentResource):
    cluster_name: str
    kubeconfig: pulumi.Output[str]
    app_url: pulumi.Output[str]
    image_ref: pulumi.Output[str]
    admin_principal_arn: pulumi.Output[str]
    migration_job: k8s.batch.v1.Job

    def __init__(self, name: str, args: EksAppArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("fraud:eks_app:EksApp", name, None, opts)
        settings = args.settings
        child = pulumi.ResourceOptions(parent=self)

        # --- cluster -------------------------------------------------------------------------------------------
        secrets_key = aws.kms.Key(
            f"{name}-secrets-key",
            description=f"{name}: envelope encryption of Kubernetes Secrets",
            enable_key_rotation=True,
            deletion_window_in_days=7,
            opts=child,
        )
        aws.kms.Alias(f"{name}-secrets-key-alias", name=f"alias/{name}-eks-secrets", target_key_id=secrets_key.id, opts=child)

        caller = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        session = aws.iam.get_session_context_output(arn=caller.arn, opts=pulumi.InvokeOutputOptions(parent=self))

        self.cluster_name = f"{name}-eks"
        cluster = eks.Cluster(
            f"{name}-eks",
            name=self.cluster_name,
            vpc_id=args.vpc_id,
            private_subnet_ids=args.private_subnet_ids,
            auto_mode=eks.AutoModeOptionsArgs(enabled=True),
            authentication_mode=eks.AuthenticationMode.API,
            endpoint_public_access=True,
            public_access_cidrs=list(settings.eks_public_access_cidrs),
            endpoint_private_access=True,
            # Auto Mode runs CoreDNS itself; the add-on pulumi-eks would otherwise install can fail to schedule.
            coredns_addon_options=eks.CoreDnsAddonOptionsArgs(enabled=False),
            encryption_config_key_arn=secrets_key.arn,
            opts=child,
        )
        k8s_provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=cluster.kubeconfig_json,
            enable_server_side_apply=True,
            opts=child,
        )
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=k8s_provider)

        # --- image ---------------------------------------------------------------------------------------------
        if settings.image:
            image_ref: pulumi.Output[str] = pulumi.Output.from_input(settings.image)
            version = hashlib.sha256(settings.image.encode()).hexdigest()[:TAG_LENGTH]
        else:
            version = content_tag(APP_DIR)
            repository_name = f"{name}/web"
            repository = aws.ecr.Repository(
                f"{name}-repo",
                name=repository_name,
                image_tag_mutability="IMMUTABLE",
                image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
                encryption_configurations=[aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS")],
                force_delete=True,  # `pulumi destroy` removes the pushed images with the repository
                opts=child,
            )
            digest = pushed_digest(repository_name, version, pulumi.InvokeOptions(parent=self))
            if digest is not None:
                # Pushed before (an earlier `up`, a revert, an interrupted run): the same reference docker-build gives.
                image_ref = pulumi.Output.concat(repository.repository_url, f":{version}@{digest}")
            else:
                token = aws.ecr.get_authorization_token_output(
                    registry_id=repository.registry_id, opts=pulumi.InvokeOutputOptions(parent=self)
                )
                image = docker_build.Image(
                    f"{name}-image",
                    context=docker_build.BuildContextArgs(location=APP_CONTEXT),
                    platforms=[docker_build.Platform(PLATFORM)],
                    tags=[repository.repository_url.apply(lambda url: f"{url}:{version}")],
                    push=True,
                    # Preview (and `pulumi preview --policy-pack` in CI) needs no Docker daemon.
                    build_on_preview=False,
                    registries=[
                        docker_build.RegistryArgs(
                            address=repository.repository_url,
                            username=token.user_name,
                            password=pulumi.Output.secret(token.password),
                        )
                    ],
                    opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
                )
                image_ref = image.ref  # <repository>:<tag>@sha256:<digest>

        # --- configuration and secrets --------------------------------------------------------------------------
        namespace = k8s.core.v1.Namespace(
            f"{name}-ns", metadata={"name": NAMESPACE, "labels": APP_LABELS}, opts=k8s_opts
        )
        ns = namespace.metadata.name
        secret_key = random.RandomPassword(f"{name}-django-secret-key", length=64, special=True, opts=child)
        admin_password = random.RandomPassword(
            f"{name}-django-admin-password", length=24, special=True,
            min_upper=2, min_lower=2, min_numeric=2, min_special=2, opts=child,
        )
        # Both are auto-named: a changed value gives a new object name, which rolls the pods and re-runs the Job.
        secret = k8s.core.v1.Secret(
            f"{name}-secret",
            metadata={"namespace": ns, "labels": APP_LABELS},
            type="Opaque",
            string_data={
                "ORACLE_PASSWORD": args.oracle_password,
                "DJANGO_SECRET_KEY": secret_key.result,
                "DJANGO_ADMIN_PASSWORD": admin_password.result,
            },
            opts=k8s_opts,
        )
        config = k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata={"namespace": ns, "labels": APP_LABELS},
            data={
                "ORACLE_HOST": args.oracle_host,
                "ORACLE_PORT": pulumi.Output.from_input(args.oracle_port).apply(str),
                "ORACLE_SERVICE_NAME": args.oracle_service_name,
                "ORACLE_USER": args.oracle_user,
                "DJANGO_ALLOWED_HOSTS": ALLOWED_HOSTS,
                "DJANGO_DEBUG": "false",
                "SEED_USERS": str(settings.seed_users),
                "STREAM_INTERVAL_MS": str(settings.stream_interval_ms),
                "GUNICORN_WORKERS": str(settings.gunicorn_workers),
            },
            opts=k8s_opts,
        )
        env_from = [
            {"configMapRef": {"name": config.metadata.name}},
            {"secretRef": {"name": secret.metadata.name}},
        ]

        # --- schema and seed data, then the web pods -------------------------------------------------------------
        manage = ["python", "manage.py"]
        self.migration_job = k8s.batch.v1.Job(
            # A new image is a new Job (and a new run); the old one is deleted after the update.
            f"{name}-migrate-{version[:12]}",
            metadata={"namespace": ns, "labels": {**APP_LABELS, "app.kubernetes.io/component": "migrate"}},
            spec={
                "backoffLimit": 2,
                "template": {
                    "metadata": {"labels": {**APP_LABELS, "app.kubernetes.io/component": "migrate"}},
                    "spec": _pod_spec(
                        initContainers=[
                            _container("migrate", image_ref, env_from, JOB_RESOURCES, command=[*manage, "migrate", "--noinput"])
                        ],
                        containers=[_container("seed", image_ref, env_from, JOB_RESOURCES, command=[*manage, "seed"])],
                        restartPolicy="Never",
                    ),
                },
            },
            opts=pulumi.ResourceOptions.merge(
                k8s_opts,
                pulumi.ResourceOptions(
                    depends_on=[args.oracle_ready],
                    custom_timeouts=pulumi.CustomTimeouts(create="20m", update="20m"),
                ),
            ),
        )

        web_labels = {**APP_LABELS, "app.kubernetes.io/component": "web"}
        probe = {"httpGet": {"path": HEALTH_PATH, "port": "http"}, "timeoutSeconds": 3}
        deployment = k8s.apps.v1.Deployment(
            f"{name}-web",
            metadata={"name": "web", "namespace": ns, "labels": web_labels},
            spec={
                "replicas": settings.replicas,
                "selector": {"matchLabels": web_labels},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
                "template": {
                    "metadata": {"labels": web_labels},
                    "spec": _pod_spec(
                        containers=[
                            _container(
                                "web", image_ref, env_from, WEB_RESOURCES,
                                ports=[{"name": "http", "containerPort": HTTP_PORT, "protocol": "TCP"}],
                                readinessProbe={**probe, "periodSeconds": 10, "failureThreshold": 3},
                                # /healthz queries the database: restart only after minutes of failure, not on a blip.
                                livenessProbe={**probe, "initialDelaySeconds": 30, "periodSeconds": 20, "failureThreshold": 6},
                            )
                        ],
                        topologySpreadConstraints=[
                            {
                                "maxSkew": 1,
                                "topologyKey": "topology.kubernetes.io/zone",
                                "whenUnsatisfiable": "ScheduleAnyway",
                                "labelSelector": {"matchLabels": web_labels},
                            }
                        ],
                    ),
                },
            },
            opts=pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[self.migration_job])),
        )
        if settings.replicas > 1:
            # Auto Mode replaces nodes (consolidation, 21-day lifetime); keep one pod serving while it does.
            k8s.policy.v1.PodDisruptionBudget(
                f"{name}-web-pdb",
                metadata={"name": "web", "namespace": ns, "labels": web_labels},
                spec={"maxUnavailable": 1, "selector": {"matchLabels": web_labels}},
                opts=k8s_opts,
            )
        service = k8s.core.v1.Service(
            f"{name}-web-svc",
            metadata={"name": "web", "namespace": ns, "labels": web_labels},
            spec={
                "type": "ClusterIP",
                "selector": web_labels,
                "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
            },
            opts=pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[deployment])),
        )

        # --- load balancer --------------------------------------------------------------------------------------
        class_params = k8s.apiextensions.CustomResource(
            f"{name}-alb-params",
            api_version="eks.amazonaws.com/v1",
            kind="IngressClassParams",
            metadata={"name": ALB_CLASS, "labels": APP_LABELS},
            spec={"scheme": "internet-facing"},
            opts=k8s_opts,
        )
        ingress_class = k8s.networking.v1.IngressClass(
            f"{name}-alb-class",
            metadata={"name": ALB_CLASS, "labels": APP_LABELS},
            spec={
                "controller": ALB_CONTROLLER,
                "parameters": {"apiGroup": "eks.amazonaws.com", "kind": "IngressClassParams", "name": ALB_CLASS},
            },
            opts=pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[class_params])),
        )
        ingress = k8s.networking.v1.Ingress(
            f"{name}-ingress",
            metadata={
                "name": "web",
                "namespace": ns,
                "labels": web_labels,
                "annotations": {
                    "alb.ingress.kubernetes.io/scheme": "internet-facing",
                    "alb.ingress.kubernetes.io/target-type": "ip",
                    "alb.ingress.kubernetes.io/inbound-cidrs": ",".join(settings.ingress_cidrs),
                    "alb.ingress.kubernetes.io/healthcheck-path": HEALTH_PATH,
                },
            },
            spec={
                "ingressClassName": ingress_class.metadata.name,
                "rules": [
                    {
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {"service": {"name": service.metadata.name, "port": {"name": "http"}}},
                                }
                            ]
                        }
                    }
                ],
            },
            opts=k8s_opts,
        )

        self.kubeconfig = pulumi.Output.secret(cluster.kubeconfig_json)
        self.app_url = ingress.status.apply(lambda status: f"http://{status.load_balancer.ingress[0].hostname}")
        self.image_ref = image_ref
        self.admin_principal_arn = session.issuer_arn
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "kubeconfig": self.kubeconfig,
                "app_url": self.app_url,
                "image_ref": self.image_ref,
                "admin_principal_arn": self.admin_principal_arn,
            }
        )
