"""EksApp on the mock-run program: cluster settings, Kubernetes objects against the Kubernetes schema, secrets kept
out of ConfigMaps and env values, pod hardening, ordering (Oracle gate -> Job -> Deployment), the ALB Ingress, both
image paths, the content tag of app/, and later `up`s against an immutable repository: a model of docker-build's
change check and of ECR's immutable tags runs over sequences of mocked `up`s."""
from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import stat
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import kubernetes_validate
import pytest
from django.http.request import validate_host

from components.eks_app import (
    ALB_CONTROLLER,
    ALLOWED_HOSTS,
    APP_DIR,
    APP_UID,
    HEALTH_PATH,
    HTTP_PORT,
    NAMESPACE,
    content_tag,
    context_files,
    ignore_rules,
    is_ignored,
)
from mockcloud.program import Program, Resource, run_program
from mockcloud.answers import INVOKE_RESULTS

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pulumi_eks.*")

CLUSTER = "eks:index:Cluster"
K8S_PROVIDER = "pulumi:providers:kubernetes"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
JOB = "kubernetes:batch/v1:Job"
SECRET = "kubernetes:core/v1:Secret"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
INGRESS_CLASS = "kubernetes:networking.k8s.io/v1:IngressClass"
CLASS_PARAMS = "kubernetes:eks.amazonaws.com/v1:IngressClassParams"
REPOSITORY = "aws:ecr/repository:Repository"
IMAGE = "docker-build:index:Image"
PASSWORD = "random:index/randomPassword:RandomPassword"
ORACLE_GATE = "fraud-dev-oracle-ready"
PREBUILT = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/fraud-web:2024.06.1"
# The oldest Kubernetes minor EKS Auto Mode supports that the schema package carries, and the newest it carries.
SCHEMA_VERSIONS = ("1.29.0", kubernetes_validate.latest_version())


@functools.lru_cache(maxsize=None)
def prebuilt() -> Program:
    return run_program("dev", overrides={"fraud-detection:appImage": PREBUILT})


@functools.lru_cache(maxsize=None)
def custom_cidrs() -> Program:
    return run_program(
        "dev",
        overrides={
            "fraud-detection:appIngressCidrs": ["203.0.113.0/24", "198.51.100.64/26"],
            "fraud-detection:eksPublicAccessCidrs": ["192.0.2.10/32", "192.0.2.20/32"],
        },
    )


def app_resources(program: Program) -> list[Resource]:
    return program.descendants(program.one("fraud:eks_app:EksApp"))


def kubernetes_objects(program: Program) -> list[Resource]:
    return [r for r in app_resources(program) if r.type.startswith("kubernetes:")]


def integral(value):
    """Numbers cross the mock boundary as floats; the schema wants integers where the program sent them."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [integral(v) for v in value]
    return value


def manifest(resource: Resource) -> dict:
    """The object as the Kubernetes provider would send it: the registered inputs (apiVersion, kind, metadata, ...)."""
    return integral(resource.inputs)


def pod_spec(resource: Resource) -> dict:
    return manifest(resource)["spec"]["template"]["spec"]


def containers(resource: Resource) -> list[dict]:
    spec = pod_spec(resource)
    return spec.get("initContainers", []) + spec["containers"]


def workloads(program: Program) -> list[Resource]:
    return [r for r in kubernetes_objects(program) if r.type in (DEPLOYMENT, JOB)]


def generated_secrets(program: Program) -> dict[str, str]:
    """Each value the Secret carries, as the mocked providers generated it (never typed into the program)."""
    values = manifest(program.one(SECRET))["stringData"]
    passwords = {r.outputs["result"] for r in app_resources(program) if r.type == PASSWORD}
    assert {values["DJANGO_SECRET_KEY"], values["DJANGO_ADMIN_PASSWORD"]} <= passwords
    assert values["ORACLE_PASSWORD"] == program.outputs["oracleAppPassword"]
    return values


# --- cluster ---------------------------------------------------------------------------------------------------------


def test_cluster_is_auto_mode_with_api_authentication_and_private_nodes(dev):
    cluster = dev.one(CLUSTER)
    inputs = cluster.inputs
    assert inputs["autoMode"]["enabled"] is True
    assert inputs["authenticationMode"] == "API"
    private = [s.urn for s in dev.of_type("aws:ec2/subnet:Subnet") if "-private-" in s.name]
    assert inputs["privateSubnetIds"] == [f"fraud-dev-private-{i}-id" for i in range(3)]
    assert set(cluster.property_dependencies["privateSubnetIds"]) == set(private)
    # Only private subnets: Auto Mode's default NodeClass launches nodes into the cluster's subnets.
    assert "publicSubnetIds" not in inputs and "subnetIds" not in inputs
    assert inputs["vpcId"] == "fraud-dev-vpc-id"
    # Auto Mode runs CoreDNS itself (FACTS: the add-on can fail on Auto Mode).
    assert inputs["corednsAddonOptions"]["enabled"] is False
    # The deployer's admin entry comes from the cluster's bootstrap; a duplicate would fail with 409.
    assert "accessEntries" not in inputs
    assert dev.outputs["eksClusterName"] == inputs["name"] == "fraud-dev-app-eks"


def test_api_endpoint_public_only_to_the_configured_cidrs_and_private_on(dev):
    for program, expected in ((dev, ["198.51.100.7/32"]), (custom_cidrs(), ["192.0.2.10/32", "192.0.2.20/32"])):
        inputs = program.one(CLUSTER).inputs
        assert inputs["endpointPublicAccess"] is True
        assert inputs["publicAccessCidrs"] == expected
        assert inputs["endpointPrivateAccess"] is True


def test_secrets_are_envelope_encrypted_with_a_rotating_key(dev):
    key = next(r for r in app_resources(dev) if r.type == "aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True
    cluster = dev.one(CLUSTER)
    assert cluster.inputs["encryptionConfigKeyArn"] == key.outputs["arn"]
    assert key.urn in cluster.property_dependencies["encryptionConfigKeyArn"]


def test_deployer_principal_is_resolved_through_the_session_context(dev):
    caller_arn = INVOKE_RESULTS["aws:index/getCallerIdentity:getCallerIdentity"]({})["arn"]
    [session] = dev.invokes_of("aws:iam/getSessionContext:getSessionContext")
    assert session.args["arn"] == caller_arn
    assert dev.outputs["eksAdminPrincipalArn"] == INVOKE_RESULTS[session.token](session.args)["issuerArn"]


def test_kubernetes_provider_uses_the_clusters_kubeconfig(dev):
    cluster = dev.one(CLUSTER)
    provider = dev.one(K8S_PROVIDER)
    assert json.loads(provider.inputs["kubeconfig"]) == json.loads(cluster.outputs["kubeconfigJson"])
    assert cluster.urn in provider.property_dependencies["kubeconfig"]
    assert "kubeconfig" in dev.secret_outputs
    assert json.loads(dev.outputs["kubeconfig"])["users"][0]["user"]["exec"]["command"] == "aws"


def test_every_kubernetes_object_is_a_child_on_the_clusters_provider_and_awaited(dev):
    component = dev.one("fraud:eks_app:EksApp")
    provider = dev.one(K8S_PROVIDER)
    objects = [r for r in dev.resources if r.type.startswith("kubernetes:")]
    assert {r.type for r in objects} >= {DEPLOYMENT, JOB, SECRET, CONFIG_MAP, INGRESS, INGRESS_CLASS, CLASS_PARAMS}
    for resource in objects:
        assert resource.parent == component.urn, resource.name
        assert resource.provider.startswith(provider.urn + "::"), resource.name
        annotations = resource.inputs.get("metadata", {}).get("annotations", {})
        assert "pulumi.com/skipAwait" not in annotations, resource.name


def test_ingress_is_deleted_before_the_cluster_and_the_vpc(dev):
    """Destroy runs in reverse dependency order: the Ingress (and its ALB) goes before its provider, the cluster and the VPC."""
    ingress = dev.one(INGRESS)
    provider = dev.by_urn(ingress.provider.rsplit("::", 1)[0])
    cluster = dev.one(CLUSTER)
    assert provider.type == K8S_PROVIDER
    assert dev.depends_on(provider, cluster)
    assert dev.depends_on(cluster, dev.one("aws:ec2/vpc:Vpc"))


# --- Kubernetes objects ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
@pytest.mark.parametrize("stack", ["dev", "ha"])
def test_every_kubernetes_object_validates_against_the_schema(stack, version, request):
    program = request.getfixturevalue(stack)
    checked = []
    for resource in kubernetes_objects(program):
        if resource.type == CLASS_PARAMS:
            continue  # an Auto Mode CRD, not in the Kubernetes schema: checked in test_ingress_class_is_auto_modes_alb
        kubernetes_validate.validate(manifest(resource), version, strict=True)
        checked.append(resource.inputs["kind"])
    assert sorted(checked) == sorted(
        ["Namespace", "Secret", "ConfigMap", "Job", "Deployment", "Service", "IngressClass", "Ingress"]
        + (["PodDisruptionBudget"] if stack == "ha" else [])
    )


def test_schema_validation_catches_a_misspelt_field(dev):
    broken = manifest(dev.one(DEPLOYMENT))
    broken["spec"]["template"]["spec"]["containers"][0]["readynessProbe"] = {"httpGet": {"path": "/", "port": 8000}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, SCHEMA_VERSIONS[0], strict=True)


def test_namespaced_objects_live_in_the_app_namespace(dev):
    assert manifest(dev.one("kubernetes:core/v1:Namespace"))["metadata"]["name"] == NAMESPACE
    cluster_scoped = {"kubernetes:core/v1:Namespace", INGRESS_CLASS, CLASS_PARAMS}
    for resource in kubernetes_objects(dev):
        if resource.type not in cluster_scoped:
            assert resource.inputs["metadata"]["namespace"] == NAMESPACE, resource.name


def test_secret_values_are_only_in_the_secret(dev):
    secrets = generated_secrets(dev)
    secret = dev.one(SECRET)
    assert "stringData" in secret.secret_inputs
    assert all(len(value) >= 8 for value in secrets.values())
    config_values = manifest(dev.one(CONFIG_MAP))["data"]
    assert not set(config_values) & set(secrets)
    for key, value in config_values.items():
        for name, secret_value in secrets.items():
            assert secret_value not in value, f"ConfigMap {key} carries {name}"
    secret_name = secret.outputs["metadata"]["name"]
    config_name = dev.one(CONFIG_MAP).outputs["metadata"]["name"]
    for workload in workloads(dev):
        for container in containers(workload):
            for variable in container.get("env", []):
                assert "value" not in variable or all(s not in variable["value"] for s in secrets.values())
            sources = {json.dumps(source, sort_keys=True) for source in container["envFrom"]}
            assert sources == {
                json.dumps({"configMapRef": {"name": config_name}}, sort_keys=True),
                json.dumps({"secretRef": {"name": secret_name}}, sort_keys=True),
            }, (workload.name, container["name"])


def test_secrets_are_generated_with_the_strength_the_app_demands(dev):
    passwords = {r.name: r.inputs for r in app_resources(dev) if r.type == PASSWORD}
    assert passwords["fraud-dev-app-django-secret-key"]["length"] >= 50  # Django's check wants 50+, the app 32+
    admin = passwords["fraud-dev-app-django-admin-password"]
    assert admin["length"] >= 12  # the app's MinimumLengthValidator
    assert all(admin[k] >= 1 for k in ("minUpper", "minLower", "minNumeric", "minSpecial"))


def test_config_map_carries_the_apps_environment_contract(dev, ha):
    data = manifest(dev.one(CONFIG_MAP))["data"]
    assert data == {
        "ORACLE_HOST": "10.40.128.10",  # the database's private IP
        "ORACLE_PORT": "1521",
        "ORACLE_SERVICE_NAME": "XEPDB1",
        "ORACLE_USER": "SAMPLE",
        "DJANGO_ALLOWED_HOSTS": ALLOWED_HOSTS,
        "DJANGO_DEBUG": "false",
        "SEED_USERS": "1000",
        "STREAM_INTERVAL_MS": "1000",
        "GUNICORN_WORKERS": "2",
    }
    overridden = run_program("dev", overrides={"fraud-detection:appSeedUsers": 250, "fraud-detection:appGunicornWorkers": 4})
    data = manifest(overridden.one(CONFIG_MAP))["data"]
    assert (data["SEED_USERS"], data["GUNICORN_WORKERS"]) == ("250", "4")


def test_allowed_hosts_accept_the_load_balancer_name_and_nothing_else(dev):
    hostname = dev.outputs["appUrl"].removeprefix("http://")
    allowed = manifest(dev.one(CONFIG_MAP))["data"]["DJANGO_ALLOWED_HOSTS"].split(",")
    assert validate_host(hostname, allowed)
    assert validate_host("localhost", allowed)  # kubectl port-forward
    assert not validate_host("evil.example.com", allowed)
    assert not validate_host("elb.amazonaws.com.evil.example", allowed)


@pytest.mark.parametrize("stack", ["dev", "ha"])
def test_pods_are_hardened_with_limits_and_a_writable_tmp(stack, request):
    program = request.getfixturevalue(stack)
    for workload in workloads(program):
        spec = pod_spec(workload)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] == APP_UID
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert spec["automountServiceAccountToken"] is False
        assert {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}} in spec["volumes"]
        for container in containers(workload):
            context = container["securityContext"]
            assert context["runAsNonRoot"] is True and context["runAsUser"] == APP_UID
            assert context["readOnlyRootFilesystem"] is True
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"] == {"drop": ["ALL"]}
            assert context["seccompProfile"] == {"type": "RuntimeDefault"}
            assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
            for kind in ("requests", "limits"):
                assert set(container["resources"][kind]) == {"cpu", "memory"}, (workload.name, container["name"])


@pytest.mark.parametrize("stack,replicas", [("dev", 1), ("ha", 3)])
def test_deployment_probes_health_and_follows_the_replica_setting(stack, replicas, request):
    program = request.getfixturevalue(stack)
    deployment = manifest(program.one(DEPLOYMENT))
    assert deployment["spec"]["replicas"] == replicas
    [web] = deployment["spec"]["template"]["spec"]["containers"]
    assert web["ports"] == [{"name": "http", "containerPort": HTTP_PORT, "protocol": "TCP"}]
    for probe in ("readinessProbe", "livenessProbe"):
        assert web[probe]["httpGet"] == {"path": HEALTH_PATH, "port": "http"}
    assert deployment["spec"]["selector"]["matchLabels"] == deployment["spec"]["template"]["metadata"]["labels"]
    budgets = program.of_type("kubernetes:policy/v1:PodDisruptionBudget")
    assert len(budgets) == (1 if replicas > 1 else 0)  # a budget on a single pod would block node replacement


def test_migration_job_waits_for_oracle_and_the_deployment_waits_for_it(dev):
    job = dev.one(JOB)
    gate = dev.named(ORACLE_GATE)
    assert gate.urn in job.dependencies
    deployment = dev.one(DEPLOYMENT)
    assert job.urn in deployment.dependencies
    assert dev.depends_on(deployment, gate)
    # The Oracle host creates the tables, so the CDC connector does not wait for the Job; its gate waits for
    # the rows the Job seeds (a CDC topic appears with its table's first row).
    assert not dev.depends_on(dev.named("fraud-dev-cdc-connector"), job)
    assert dev.depends_on(dev.named("fraud-dev-cdc-ready"), job)
    service = dev.one("kubernetes:core/v1:Service")
    assert dev.depends_on(dev.one(INGRESS), service) and dev.depends_on(service, deployment)


def test_migration_job_runs_migrate_then_seed_once_per_image(dev):
    job = dev.one(JOB)
    spec = pod_spec(job)
    assert spec["restartPolicy"] == "Never"
    [migrate] = spec["initContainers"]
    [seed] = spec["containers"]
    assert migrate["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert seed["command"] == ["python", "manage.py", "seed"]
    assert "ttlSecondsAfterFinished" not in job.inputs["spec"]  # a vanished Job would be re-created by a refresh
    assert job.options["custom_timeouts"]["create"] == "20m"
    tag = content_tag(APP_DIR)
    assert job.name == f"fraud-dev-app-migrate-{tag[:12]}"
    assert prebuilt().one(JOB).name != job.name


def test_service_and_ingress_route_to_the_web_port(dev):
    service = manifest(dev.one("kubernetes:core/v1:Service"))
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]
    assert service["spec"]["selector"] == manifest(dev.one(DEPLOYMENT))["spec"]["selector"]["matchLabels"]
    ingress = manifest(dev.one(INGRESS))
    [rule] = ingress["spec"]["rules"]
    [path] = rule["http"]["paths"]
    assert (path["path"], path["pathType"]) == ("/", "Prefix")
    assert path["backend"] == {"service": {"name": service["metadata"]["name"], "port": {"name": "http"}}}


def test_ingress_class_is_auto_modes_alb(dev):
    params = manifest(dev.one(CLASS_PARAMS))
    assert params["apiVersion"] == "eks.amazonaws.com/v1" and params["kind"] == "IngressClassParams"
    assert params["spec"] == {"scheme": "internet-facing"}
    assert "namespace" not in params["metadata"]
    ingress_class = manifest(dev.one(INGRESS_CLASS))
    assert ingress_class["spec"]["controller"] == ALB_CONTROLLER == "eks.amazonaws.com/alb"
    assert ingress_class["spec"]["parameters"] == {
        "apiGroup": "eks.amazonaws.com", "kind": "IngressClassParams", "name": params["metadata"]["name"],
    }
    assert dev.one(CLASS_PARAMS).urn in dev.one(INGRESS_CLASS).dependencies
    assert manifest(dev.one(INGRESS))["spec"]["ingressClassName"] == ingress_class["metadata"]["name"]


def test_ingress_annotations_follow_the_settings(dev):
    for program, cidrs in ((dev, "0.0.0.0/0"), (custom_cidrs(), "203.0.113.0/24,198.51.100.64/26")):
        annotations = program.one(INGRESS).inputs["metadata"]["annotations"]
        assert annotations == {
            "alb.ingress.kubernetes.io/scheme": "internet-facing",
            "alb.ingress.kubernetes.io/target-type": "ip",
            "alb.ingress.kubernetes.io/inbound-cidrs": cidrs,
            "alb.ingress.kubernetes.io/healthcheck-path": HEALTH_PATH,
        }


def test_app_url_is_the_load_balancers_name(dev):
    hostname = dev.one(INGRESS).outputs["status"]["loadBalancer"]["ingress"][0]["hostname"]
    assert dev.outputs["appUrl"] == f"http://{hostname}"


# --- image -----------------------------------------------------------------------------------------------------------


def test_built_image_is_pushed_to_a_private_immutable_repository_tagged_by_content(dev):
    """On a first `up` (the mocked ECR holds no repository yet) the image is built and pushed."""
    repository = dev.one(REPOSITORY)
    assert repository.inputs["imageTagMutability"] == "IMMUTABLE"
    assert repository.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repository.inputs["forceDelete"] is True
    assert repository.inputs["encryptionConfigurations"] == [{"encryptionType": "KMS"}]
    image = dev.one(IMAGE)
    url = repository.outputs["repositoryUrl"]
    assert image.inputs["tags"] == [f"{url}:{content_tag(APP_DIR)}"]
    assert image.inputs["context"] == {"location": "app"}
    assert image.inputs["platforms"] == ["linux/amd64"]
    assert image.inputs["push"] is True
    assert image.options["retain_on_delete"] is True  # docker-build's Delete would remove the manifest the pods run
    [registry] = image.inputs["registries"]
    assert registry == {"address": url, "username": "AWS", "password": "mock-ecr-password"}
    assert "registries" in image.secret_inputs or any(p.startswith("registries") for p in image.secret_inputs)
    [token] = dev.invokes_of("aws:ecr/getAuthorizationToken:getAuthorizationToken")
    assert token.args["registryId"] == repository.outputs["registryId"]
    for workload in workloads(dev):
        assert {c["image"] for c in containers(workload)} == {image.outputs["ref"]}
    assert dev.outputs["appImage"] == image.outputs["ref"]


def test_prebuilt_image_is_used_as_is_without_repository_or_build():
    program = prebuilt()
    assert program.of_type(REPOSITORY) == [] and program.of_type(IMAGE) == []
    assert program.invokes_of("aws:ecr/getAuthorizationToken:getAuthorizationToken") == []
    for workload in workloads(program):
        assert {c["image"] for c in containers(workload)} == {PREBUILT}
    assert program.outputs["appImage"] == PREBUILT


# --- content tag -----------------------------------------------------------------------------------------------------


@pytest.fixture
def app_copy(tmp_path: Path) -> Path:
    directory = tmp_path / "app"
    (directory / "web" / "tests").mkdir(parents=True)
    (directory / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY . .\n")
    (directory / ".dockerignore").write_text("# comment\n**/tests\nstaticfiles\n*.log\n!keep.log\nDockerfile\n")
    (directory / "manage.py").write_text("print('manage')\n")
    (directory / "web" / "views.py").write_text("def index(): ...\n")
    (directory / "web" / "tests" / "test_views.py").write_text("def test(): ...\n")
    return directory


def test_content_tag_is_stable_and_ignores_what_docker_does_not_send(app_copy: Path):
    tag = content_tag(app_copy)
    assert len(tag) == 16 and int(tag, 16) >= 0
    assert content_tag(app_copy) == tag
    (app_copy / "web" / "__pycache__").mkdir()
    (app_copy / "web" / "__pycache__" / "views.cpython-312.pyc").write_bytes(b"\x00bytecode")
    (app_copy / "db.sqlite3").write_bytes(b"SQLite format 3\x00")
    (app_copy / "web" / "tests" / "test_more.py").write_text("def test_more(): ...\n")
    (app_copy / "staticfiles").mkdir()
    (app_copy / "staticfiles" / "app.abc123.css").write_text("body {}\n")
    (app_copy / "debug.log").write_text("noise\n")
    assert content_tag(app_copy) == tag


@pytest.mark.parametrize(
    "change",
    [
        lambda d: (d / "web" / "views.py").write_text("def index(): return 1\n"),
        lambda d: (d / "web" / "models.py").write_text("class Model: ...\n"),
        lambda d: (d / "manage.py").unlink(),
        lambda d: (d / "manage.py").rename(d / "main.py"),
        lambda d: (d / "Dockerfile").write_text("FROM python:3.13-slim\nCOPY . .\n"),  # ignored, yet it defines the build
        lambda d: (d / "keep.log").write_text("re-included by !keep.log\n"),
        lambda d: (d / ".dockerignore").write_text("**/tests\n"),
    ],
    ids=["edit", "add", "delete", "rename", "dockerfile", "negated-pattern", "dockerignore"],
)
def test_content_tag_changes_with_the_build_context(app_copy: Path, change):
    before = content_tag(app_copy)
    change(app_copy)
    assert content_tag(app_copy) != before


def test_content_tag_does_not_depend_on_location_or_creation_order(app_copy: Path, tmp_path: Path):
    other = tmp_path / "elsewhere" / "app"
    other.mkdir(parents=True)
    for relative in reversed(sorted(p.relative_to(app_copy).as_posix() for p in app_copy.rglob("*") if p.is_file())):
        (other / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(app_copy / relative, other / relative)
    assert content_tag(other) == content_tag(app_copy)


@pytest.mark.parametrize(
    "path,ignored",
    [
        ("web/tests/test_views.py", True),  # **/tests matches at any depth, and everything under it
        ("tests/conftest.py", True),
        ("web/testsuite.py", False),
        ("staticfiles/admin/base.css", True),
        ("web/staticfiles/x.css", False),  # a pattern without ** is anchored at the context root
        ("debug.log", True),
        ("web/debug.log", False),  # * does not cross a slash
        ("keep.log", False),  # the later ! pattern re-includes it
        ("web/__pycache__/views.cpython-312.pyc", True),
        ("db.sqlite3", True),
        ("manage.py", False),
    ],
)
def test_dockerignore_rules(app_copy: Path, path, ignored):
    assert is_ignored(path, ignore_rules(app_copy)) is ignored


def test_real_app_context_holds_the_app_but_not_its_tests_or_collected_files():
    files = context_files(APP_DIR)
    assert {"Dockerfile", "manage.py", "gunicorn.conf.py", "requirements.txt", "frauddemo/settings.py"} <= set(files)
    assert not [f for f in files if "/tests/" in f or f.startswith("staticfiles/") or f.endswith(".pyc")]



def test_content_tag_follows_what_git_records_of_modes(app_copy: Path):
    """git keeps a file's executable bit and no other mode bit (100644 or 100755)."""
    tag = content_tag(app_copy)
    (app_copy / "manage.py").chmod(0o664)  # another umask, or a chmod g+w: the same app
    (app_copy / "web" / "views.py").chmod(0o600)
    assert content_tag(app_copy) == tag
    (app_copy / "manage.py").chmod(0o775)  # executable: git records a change, and so does the image
    assert content_tag(app_copy) != tag
    assert content_tag(app_copy, platform="linux/arm64") != content_tag(app_copy)


def test_a_fresh_clone_under_another_umask_has_the_same_tag(app_copy: Path, tmp_path: Path):
    (app_copy / "manage.py").chmod(0o755)
    git = ["git", "-c", "user.email=dev@example.com", "-c", "user.name=dev", "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "-q", str(app_copy)], check=True)
    subprocess.run([*git, "-C", str(app_copy), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(app_copy), "commit", "-q", "-m", "app"], check=True)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(app_copy), str(clone)], check=True, preexec_fn=lambda: os.umask(0o002))
    shutil.rmtree(app_copy / ".git"), shutil.rmtree(clone / ".git")
    assert stat.filemode((clone / "web" / "views.py").stat().st_mode) == "-rw-rw-r--"  # the umask shows
    assert docker_build_context_hash(clone) != docker_build_context_hash(app_copy)  # docker-build sees a change
    assert content_tag(clone) == content_tag(app_copy)  # the tag does not


# --- later `up`s against the immutable repository -----------------------------------------------------------------------

REPOSITORY_NAME = "fraud-dev-app/web"


def docker_build_context_hash(directory: Path) -> str:
    """What pulumi-docker-build 0.0.22 compares in Image.Diff (provider/internal/context.go hashBuildContext): the
    Dockerfile, then every file of the context with its contents, path and full mode string."""
    digest = hashlib.sha256((directory / "Dockerfile").read_bytes())
    for relative in context_files(directory):
        path = directory / relative
        digest.update(path.read_bytes() + relative.encode() + stat.filemode(path.stat().st_mode).encode())
    return digest.hexdigest()


class ImageTagAlreadyExists(Exception):
    """What ECR answers a push to an existing tag of an IMMUTABLE repository."""


@dataclass
class ImmutableRepository:
    """ECR's side: tags never move; a push to an existing tag is refused."""

    tags: dict[str, str] = field(default_factory=dict)  # tag -> digest
    pushes: list[str] = field(default_factory=list)

    def push(self, tag: str) -> str:
        if tag in self.tags:
            raise ImageTagAlreadyExists(f"tag {tag} already exists in the IMMUTABLE repository {REPOSITORY_NAME}")
        self.tags[tag] = "sha256:" + hashlib.sha256(f"build {len(self.pushes)} of {tag}".encode()).hexdigest()
        self.pushes.append(tag)
        return self.tags[tag]

    def answers(self) -> dict:
        """What getRepositories and getImages return: the repository exists once something was pushed to it."""
        return {
            "aws:ecr/getRepositories:getRepositories": lambda args: {"names": [REPOSITORY_NAME] if self.tags else [], "id": "r"},
            "aws:ecr/getImages:getImages": lambda args: {
                "imageIds": [{"imageTag": tag, "imageDigest": digest} for tag, digest in self.tags.items()],
                "repositoryName": args["repositoryName"], "id": args["repositoryName"],
            },
        }


@dataclass
class ImageState:
    tags: list[str]
    context_hash: str
    retain_on_delete: bool
    ref: str


class Deployments:
    """`pulumi up` of the dev stack, again and again, against one repository, with docker-build's change check."""

    def __init__(self, app_dir: Path, monkeypatch, repository: ImmutableRepository, lookup_works: bool = True):
        self.app_dir, self.monkeypatch, self.repository, self.lookup_works = app_dir, monkeypatch, repository, lookup_works
        self.state: ImageState | None = None
        self.program: Program | None = None  # as the last up evaluated it

    def up(self) -> str:
        """Runs the program, then does what the engine and docker-build would with its Image; the image the pods run."""
        self.monkeypatch.setattr("components.eks_app.APP_DIR", self.app_dir)
        answers = self.repository.answers() if self.lookup_works else ImmutableRepository().answers()
        for token, answer in answers.items():
            self.monkeypatch.setitem(INVOKE_RESULTS, token, answer)
        program = self.program = run_program("dev")
        for workload in workloads(program):
            assert {c["image"] for c in containers(workload)} == {program.outputs["appImage"]}
        images = program.of_type(IMAGE)
        if not images:
            assert self.state is None or self.state.retain_on_delete, "docker-build's Delete would remove the pods' image"
            self.state = None
            return program.outputs["appImage"]  # by the digest the repository listed
        [image] = images
        [tag_ref] = image.inputs["tags"]
        context_hash = docker_build_context_hash(self.app_dir)
        if self.state is None or self.state.tags != [tag_ref] or self.state.context_hash != context_hash:
            ref = f"{tag_ref}@{self.repository.push(tag_ref.rsplit(':', 1)[1])}"  # Create or Update: build and push
        else:
            ref = self.state.ref
        self.state = ImageState([tag_ref], context_hash, image.options["retain_on_delete"], ref)
        return ref


@pytest.fixture
def real_app_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "app"
    shutil.copytree(APP_DIR, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.sqlite3", "staticfiles"))
    return copy


def test_later_ups_never_push_an_existing_tag(real_app_copy: Path, monkeypatch):
    repository = ImmutableRepository()
    deploy = Deployments(real_app_copy, monkeypatch, repository)
    first = deploy.up()
    assert len(repository.pushes) == 1 and first.startswith(f"123456789012.dkr.ecr.eu-central-1.amazonaws.com/{REPOSITORY_NAME}:")

    settings = real_app_copy / "frauddemo" / "settings.py"
    settings.chmod(0o664)  # a mode change only: docker-build's hash moves, the app does not
    assert deploy.up() == first and len(repository.pushes) == 1

    original = settings.read_text()
    settings.write_text(original + "\n# a change\n")
    changed = deploy.up()
    assert changed != first and len(repository.pushes) == 2

    settings.write_text(original)  # a revert: the first tag is still in the repository
    assert deploy.up() == first and len(repository.pushes) == 2

    (real_app_copy / "gunicorn.conf.py").chmod(0o755)  # an executable bit is a new image
    assert deploy.up() not in (first, changed) and len(repository.pushes) == 3


def test_an_up_interrupted_after_its_push_is_completed_by_the_next(real_app_copy: Path, monkeypatch):
    repository = ImmutableRepository()
    pushed = repository.push(content_tag(real_app_copy))  # pushed, but the state never recorded it
    assert Deployments(real_app_copy, monkeypatch, repository).up().endswith(f"@{pushed}")
    assert len(repository.pushes) == 1


def test_without_the_lookup_a_mode_change_fails_the_next_up(real_app_copy: Path, monkeypatch):
    """The model is as strict as the engine: issue 18.1 as it was, a chmod and then ImageTagAlreadyExistsException."""
    deploy = Deployments(real_app_copy, monkeypatch, ImmutableRepository(), lookup_works=False)
    deploy.up()
    (real_app_copy / "manage.py").chmod(0o700)
    with pytest.raises(ImageTagAlreadyExists):
        deploy.up()


def test_a_pushed_tag_is_used_by_digest_without_a_build(real_app_copy: Path, monkeypatch):
    repository = ImmutableRepository()
    digest = repository.push(content_tag(real_app_copy))
    deploy = Deployments(real_app_copy, monkeypatch, repository)
    deploy.up()
    program = deploy.program
    assert program.of_type(IMAGE) == []
    assert program.invokes_of("aws:ecr/getAuthorizationToken:getAuthorizationToken") == []
    url = program.one(REPOSITORY).outputs["repositoryUrl"]
    assert program.outputs["appImage"] == f"{url}:{content_tag(real_app_copy)}@{digest}"
    for workload in workloads(program):
        assert {c["image"] for c in containers(workload)} == {program.outputs["appImage"]}
    aws_provider = program.one("pulumi:providers:aws")
    for token in ("aws:ecr/getRepositories:getRepositories", "aws:ecr/getImages:getImages"):
        [lookup] = program.invokes_of(token)
        assert lookup.provider.startswith(aws_provider.urn)  # the stack's region and account, not the defaults
    assert program.invokes_of("aws:ecr/getImages:getImages")[0].args["repositoryName"] == REPOSITORY_NAME
    assert program.one(JOB).name == f"fraud-dev-app-migrate-{content_tag(real_app_copy)[:12]}"
