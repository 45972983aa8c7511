"""What the mocked clouds answer: computed resource outputs and invoke results, by type token.

Each entry is a function of the resource's name and inputs (or the invoke's args), so the values the
program reads back are derived from what it sent, like a real provider would. Add an entry when a
component starts reading a computed output the inputs do not carry.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Callable

ACCOUNT_ID = "123456789012"
REGION = "eu-central-1"
CONFLUENT_EGRESS = ["52.28.10.0/24", "3.124.20.16/28"]
CONFLUENT_ORG_ID = "11111111-2222-3333-4444-555555555555"
CONFLUENT_ORG_CRN = f"crn://confluent.cloud/organization={CONFLUENT_ORG_ID}"
FLINK_REST_ENDPOINT = f"https://flink.{REGION}.aws.confluent.cloud"
SCHEMA_REGISTRY_ENDPOINT = f"https://psrc-mock.{REGION}.aws.confluent.cloud"

# EC2's DescribeInstanceTypes answer (MemoryInfo.SizeInMiB) for the types the stacks and tests use, as
# recorded from the EC2 API in moto 5.2.5 (moto/ec2/resources/instance_types.json.gz, github.com/getmoto/moto,
# read 2026-12-01); the same figures as the GiB column of AWS's general purpose instance specifications.
INSTANCE_TYPE_MEMORY_MIB = {
    "t3.nano": 512,
    "t3.micro": 1024,
    "t3.small": 2048,
    "t3.medium": 4096,
    "t3.large": 8192,
    "t3.xlarge": 16384,
    "m5.large": 8192,
}

Outputs = Callable[[str, dict[str, Any]], dict[str, Any]]


def _instance_type(args: dict[str, Any]) -> dict[str, Any]:
    name = args["instanceType"]
    if name not in INSTANCE_TYPE_MEMORY_MIB:
        # EC2 answers an unknown type with InvalidInstanceType; a real type missing here needs its figure added.
        raise ValueError(f"no EC2 instance type {name!r} in the mocked answers (mockcloud/answers.py knows "
                         f"{', '.join(sorted(INSTANCE_TYPE_MEMORY_MIB))})")
    return {"instanceType": name, "memorySize": INSTANCE_TYPE_MEMORY_MIB[name], "id": name}

RESOURCE_OUTPUTS: dict[str, Outputs] = {
    # --- network ---
    "aws:ec2/vpc:Vpc": lambda name, inputs: {"id": f"{name}-id", "cidrBlock": inputs.get("cidrBlock")},
    "aws:ec2/subnet:Subnet": lambda name, inputs: {"id": f"{name}-id"},
    "aws:ec2/eip:Eip": lambda name, inputs: {"publicIp": "198.51.100.10", "allocationId": f"{name}-alloc"},
    # --- oracle ---
    "aws:ec2/instance:Instance": lambda name, inputs: {
        "privateIp": "10.40.128.10",
        "publicIp": "198.51.100.20",
        "publicDns": "ec2-198-51-100-20.eu-central-1.compute.amazonaws.com",
    },
    # A deterministic "generated" password per resource name; it starts with a digit on purpose (Oracle
    # passwords must start with a letter, so the program has to fix that) and never appears in the inputs.
    "random:index/randomPassword:RandomPassword": lambda name, inputs: {
        "result": "7" + hashlib.sha256(name.encode()).hexdigest()[:18] + "Qz_",
        "bcryptHash": "$2a$10$mock",
    },
    "aws:ssm/parameter:Parameter": lambda name, inputs: {
        "arn": f"arn:aws:ssm:{REGION}:{ACCOUNT_ID}:parameter{inputs['name']}",
    },
    # --- confluent cloud ---
    "confluentcloud:index/environment:Environment": lambda name, inputs: {
        "resourceName": f"{CONFLUENT_ORG_CRN}/environment={name}-id",
    },
    "confluentcloud:index/kafkaCluster:KafkaCluster": lambda name, inputs: {
        "apiVersion": "cmk/v2",
        "kind": "Cluster",
        "restEndpoint": f"https://{name}.{REGION}.aws.confluent.cloud:443",
        "bootstrapEndpoint": f"SASL_SSL://{name}.{REGION}.aws.confluent.cloud:9092",
        "rbacCrn": f"{CONFLUENT_ORG_CRN}/environment={inputs['environment']['id']}/cloud-cluster={name}-id",
        "displayName": inputs.get("displayName"),
    },
    "confluentcloud:index/serviceAccount:ServiceAccount": lambda name, inputs: {"apiVersion": "iam/v2", "kind": "ServiceAccount"},
    # A deterministic secret per key, never among the inputs, so tests can look for it anywhere it must not be.
    "confluentcloud:index/apiKey:ApiKey": lambda name, inputs: {
        "secret": "cflt-" + hashlib.sha256(name.encode()).hexdigest()[:32],
    },
    # --- redshift ---
    "aws:redshift/cluster:Cluster": lambda name, inputs: {
        "dnsName": f"{inputs['clusterIdentifier']}.cmockid.{REGION}.redshift.amazonaws.com",
        "endpoint": f"{inputs['clusterIdentifier']}.cmockid.{REGION}.redshift.amazonaws.com:{int(inputs.get('port', 5439))}",
        "port": inputs.get("port", 5439),
        "arn": f"arn:aws:redshift:{REGION}:{ACCOUNT_ID}:cluster:{inputs['clusterIdentifier']}",
    },
    "aws:kms/key:Key": lambda name, inputs: {
        "arn": f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/{hashlib.sha256(name.encode()).hexdigest()[:8]}-mock",
        "keyId": f"{hashlib.sha256(name.encode()).hexdigest()[:8]}-mock",
    },
    "random:index/randomId:RandomId": lambda name, inputs: {"hex": hashlib.sha256(name.encode()).hexdigest()[: 2 * int(inputs["byteLength"])]},
    # --- opensearch ---
    "aws:opensearch/domain:Domain": lambda name, inputs: {
        "endpoint": f"search-{inputs['domainName']}-mockid.{REGION}.es.amazonaws.com",
        "dashboardEndpoint": f"search-{inputs['domainName']}-mockid.{REGION}.es.amazonaws.com/_dashboards",
        "arn": f"arn:aws:es:{REGION}:{ACCOUNT_ID}:domain/{inputs['domainName']}",
        "domainId": f"{ACCOUNT_ID}/{inputs['domainName']}",
    },
    "confluentcloud:index/flinkComputePool:FlinkComputePool": lambda name, inputs: {
        "apiVersion": "fcpm/v2",
        "kind": "ComputePool",
        "resourceName": f"{CONFLUENT_ORG_CRN}/environment={inputs['environment']['id']}/flink-region=aws.{REGION}/compute-pool={name}-id",
    },
    # Confluent derives what a materialized table leaves out and returns it (the provider's Computed inputs).
    "confluentcloud:index/flinkMaterializedTable:FlinkMaterializedTable": lambda name, inputs: {
        "startMode": inputs.get("startMode") or {"kind": "RESUME_OR_FROM_BEGINNING"},
        "distribution": inputs.get("distribution") or {"kind": "HASH", "keys": [], "bucketCount": 6},
        "sessionOptions": inputs.get("sessionOptions") or {},
    },
    # --- eks app ---
    # pulumi-eks's Cluster is a remote component: one registration, no children; the program reads its kubeconfig.
    "eks:index:Cluster": lambda name, inputs: {
        "kubeconfigJson": json.dumps({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "kubernetes", "cluster": {"server": f"https://{name}.gr7.{REGION}.eks.amazonaws.com"}}],
            "contexts": [{"name": "aws", "context": {"cluster": "kubernetes", "user": "aws"}}],
            "current-context": "aws",
            "users": [{"name": "aws", "user": {"exec": {
                "apiVersion": "client.authentication.k8s.io/v1beta1",
                "command": "aws",
                "args": ["--region", REGION, "eks", "get-token", "--cluster-name", inputs.get("name", name), "--output", "json"],
            }}}],
        }),
    },
    "aws:ecr/repository:Repository": lambda name, inputs: {
        "registryId": ACCOUNT_ID,
        "repositoryUrl": f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/{inputs.get('name', name)}",
    },
    "docker-build:index:Image": lambda name, inputs: {
        "digest": "sha256:" + hashlib.sha256(inputs["tags"][0].encode()).hexdigest(),
        "ref": inputs["tags"][0] + "@sha256:" + hashlib.sha256(inputs["tags"][0].encode()).hexdigest(),
    },
    # Objects without metadata.name get "<resource name>-<random suffix>" from the Kubernetes provider.
    **{
        type_: lambda name, inputs: {"metadata": {**inputs.get("metadata", {}), "name": inputs.get("metadata", {}).get("name") or f"{name}-5f3c9a1b"}}
        for type_ in ("kubernetes:core/v1:Secret", "kubernetes:core/v1:ConfigMap", "kubernetes:batch/v1:Job")
    },
    "kubernetes:networking.k8s.io/v1:Ingress": lambda name, inputs: {
        "status": {"loadBalancer": {"ingress": [{"hostname": f"k8s-{name}-0123456789.{REGION}.elb.amazonaws.com"}]}},
    },
}

INVOKE_RESULTS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": lambda args: {
        "names": [f"{REGION}a", f"{REGION}b", f"{REGION}c"],
        "zoneIds": ["euc1-az1", "euc1-az2", "euc1-az3"],
        "id": REGION,
    },
    "aws:index/getCallerIdentity:getCallerIdentity": lambda args: {
        "accountId": ACCOUNT_ID,
        "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/deployer",
        "userId": "AIDAEXAMPLE",
        "id": ACCOUNT_ID,
    },
    # STS reports an assumed role as arn:aws:sts::<acct>:assumed-role/<role>/<session>; IAM knows the role (and its path).
    "aws:iam/getSessionContext:getSessionContext": lambda args: {
        "arn": args["arn"],
        "issuerArn": (
            f"arn:aws:iam::{ACCOUNT_ID}:role/{args['arn'].split('/')[1]}" if ":assumed-role/" in args["arn"] else args["arn"]
        ),
        "issuerId": "AROAEXAMPLE",
        "issuerName": args["arn"].split("/")[1] if ":assumed-role/" in args["arn"] else "",
        "sessionName": args["arn"].split("/")[-1] if ":assumed-role/" in args["arn"] else "",
        "id": args["arn"],
    },
    "aws:ecr/getAuthorizationToken:getAuthorizationToken": lambda args: {
        "authorizationToken": "QVdTOm1vY2stZWNyLXBhc3N3b3Jk",
        "userName": "AWS",
        "password": "mock-ecr-password",
        "proxyEndpoint": f"https://{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com",
        "expiresAt": "2030-01-01T00:00:00Z",
        "registryId": args.get("registryId", ACCOUNT_ID),
        "id": REGION,
    },
    "aws:ec2/getInstanceType:getInstanceType": _instance_type,
    # ECR as a first `up` finds it: no repository yet, so the app image is built and pushed.
    "aws:ecr/getRepositories:getRepositories": lambda args: {"names": [], "id": REGION, "region": REGION},
    "aws:ecr/getImages:getImages": lambda args: {
        "imageIds": [], "repositoryName": args["repositoryName"], "id": args["repositoryName"], "region": REGION,
    },
    "aws:index/getPartition:getPartition": lambda args: {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"},
    "aws:index/getRegion:getRegion": lambda args: {"name": REGION, "region": REGION, "id": REGION},
    "aws:ssm/getParameter:getParameter": lambda args: {
        "name": args["name"],
        "value": "ami-0123456789abcdef0",
        "insecureValue": "ami-0123456789abcdef0",
        "type": "String",
        "id": args["name"],
    },
    "confluentcloud:index/getIpAddresses:getIpAddresses": lambda args: {
        "ipAddresses": [
            {"ipPrefix": prefix, "cloud": "AWS", "region": REGION, "services": ["CONNECT"], "addressType": "EGRESS"}
            for prefix in CONFLUENT_EGRESS
        ],
        "id": "confluent-ips",
    },
    "confluentcloud:index/getOrganization:getOrganization": lambda args: {
        "id": CONFLUENT_ORG_ID,
        "resourceName": CONFLUENT_ORG_CRN,
    },
    "confluentcloud:index/getFlinkRegion:getFlinkRegion": lambda args: {
        "id": f"{args['cloud'].lower()}.{args['region']}",
        "apiVersion": "fcpm/v2",
        "kind": "Region",
        "cloud": args["cloud"],
        "region": args["region"],
        "restEndpoint": FLINK_REST_ENDPOINT,
        "privateRestEndpoint": f"https://flink.{args['region']}.aws.private.confluent.cloud",
    },
    "confluentcloud:index/getSchemaRegistryCluster:getSchemaRegistryCluster": lambda args: {
        "id": "lsrc-mock",
        "apiVersion": "srcm/v3",
        "kind": "Cluster",
        "displayName": "Stream Governance Package",
        "package": "ESSENTIALS",
        "cloud": "AWS",
        "region": REGION,
        "environment": {"id": args["environment"]["id"]},
        "restEndpoint": SCHEMA_REGISTRY_ENDPOINT,
        "privateRestEndpoint": "",
        "privateRegionalRestEndpoints": {},
        "catalogEndpoint": SCHEMA_REGISTRY_ENDPOINT,
        "resourceName": f"{CONFLUENT_ORG_CRN}/environment={args['environment']['id']}/schema-registry=lsrc-mock",
    },
}
