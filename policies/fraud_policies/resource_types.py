"""The resource type tokens the rules look at (what the engine hands a policy as ``resource_type``), in one place."""

SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
VPC_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
VPC_EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
GROUP_TYPES = (SECURITY_GROUP, DEFAULT_SECURITY_GROUP)
EC2_INSTANCE = "aws:ec2/instance:Instance"
EBS_VOLUME = "aws:ebs/volume:Volume"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
ECR_REPOSITORY = "aws:ecr/repository:Repository"
KMS_KEY = "aws:kms/key:Key"
REDSHIFT_CLUSTER = "aws:redshift/cluster:Cluster"
REDSHIFT_PARAMETER_GROUP = "aws:redshift/parameterGroup:ParameterGroup"
OPENSEARCH_DOMAIN = "aws:opensearch/domain:Domain"
OPENSEARCH_DOMAIN_POLICY = "aws:opensearch/domainPolicy:DomainPolicy"
EKS_COMPONENT = "eks:index:Cluster"
EKS_CLUSTER = "aws:eks/cluster:Cluster"
IAM_DOCUMENT_TYPES = {
    "aws:iam/policy:Policy": "policy",
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
}
IAM_ROLE = "aws:iam/role:Role"
IAM_ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
IAM_ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
IAM_POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
REPLICA_SET = "kubernetes:apps/v1:ReplicaSet"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
SERVICE = "kubernetes:core/v1:Service"
POD_DISRUPTION_BUDGET = "kubernetes:policy/v1:PodDisruptionBudget"
CONNECTOR = "confluentcloud:index/connector:Connector"
FLINK_POOL = "confluentcloud:index/flinkComputePool:FlinkComputePool"
FLINK_STATEMENT = "confluentcloud:index/flinkStatement:FlinkStatement"
FLINK_MATERIALIZED_TABLE = "confluentcloud:index/flinkMaterializedTable:FlinkMaterializedTable"
KAFKA_CLUSTER = "confluentcloud:index/kafkaCluster:KafkaCluster"
KAFKA_ACL = "confluentcloud:index/kafkaAcl:KafkaAcl"
ROLE_BINDING = "confluentcloud:index/roleBinding:RoleBinding"
# Resources that put a security group in front of a load balancer (an Ingress/Service through its annotations).
LOAD_BALANCER_TYPES = frozenset({
    "aws:lb/loadBalancer:LoadBalancer",
    "aws:alb/loadBalancer:LoadBalancer",
    "aws:elb/loadBalancer:LoadBalancer",
    "kubernetes:networking.k8s.io/v1:Ingress",
    "kubernetes:core/v1:Service",
})
