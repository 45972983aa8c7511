"""OracleDb: Oracle XE 21c in Docker on one EC2 host, prepared for XStream CDC, and a gate that waits for it.

Design: the host is in a PUBLIC subnet with a public IP, because Confluent Cloud's managed connectors reach
the database over the internet. Port 1521 admits only Confluent's CONNECT egress ranges and the VPC; there
is no SSH unless a key pair is configured (Session Manager is the way in). The boot script
(``oracle/user_data.sh`` with the SQL files next to it) installs Docker, starts XE, enables what XStream
needs and reports to an SSM parameter that ``OracleReadiness`` polls, so ``pulumi up`` ends only when the
database is usable. Passwords are generated here, kept in SSM Parameter Store as SecureStrings and read by
the host at boot through its instance role; the user data holds only parameter names.
"""
from __future__ import annotations

import re
import string
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.confluent_egress import ConnectorIngress, ConnectorIngressArgs
from components.oracle_readiness import OracleReadiness
from settings import OracleSettings

SCRIPTS = Path(__file__).resolve().parent / "oracle"
# Run in this order by user_data.sh; each is embedded in the user data as ``${sql_<stem>}``.
SQL_SCRIPTS = ("cdb_settings", "log_mode", "enable_archivelog", "pdb_and_logging", "users", "outbound")
AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
USER_DATA_LIMIT = 16 * 1024  # EC2 rejects larger user data

PORT = 1521
CDB_NAME = "XE"
SERVICE_NAME = "XE"
PDB_NAME = "XEPDB1"
OUTBOUND_SERVER = "XOUT"
CDC_ADMIN_USER = "C##CDC_ADMIN"
CDC_CONNECT_USER = "C##CDC_CONNECT"
RECOVERY_AREA_DIR = "/opt/oracle/oradata/fast_recovery_area"  # on the container's data volume
ARCHIVE_RETENTION_HOURS = 24  # judgement: a day of history covers a connector outage over a night
PASSWORD_LENGTH = 24  # Oracle allows 30 bytes
SAFE_VALUE = re.compile(r"[\w./:@+#-]+", re.ASCII)


class ScriptTemplate(string.Template):
    """A ``string.Template`` that fills only ``${lower_case}`` placeholders.

    Shell variables (``$VAR``, ``${VAR}``, ``$(...)``) and Oracle names such as ``v$database`` pass through
    untouched, so the scripts stay readable without ``$$`` escapes; ``substitute`` still raises on a
    placeholder without a value.
    """

    flags = 0  # case-sensitive: ${REGION} is the shell's, ${region} is ours
    pattern = r"""
    \$(?:
      (?P<escaped>(?!))|
      (?P<named>(?!))|
      \{(?P<braced>[a-z][a-z0-9_]*)\}|
      (?P<invalid>(?!))
    )
    """


@dataclass(frozen=True)
class BootConfig:
    """The non-secret values the boot script is rendered with."""

    region: str
    image: str
    app_schema: str
    status_parameter: str
    sys_password_parameter: str
    app_password_parameter: str
    cdc_admin_password_parameter: str
    cdc_connect_password_parameter: str
    recovery_area_gb: int


def render_script(file_name: str, values: dict[str, object]) -> str:
    return ScriptTemplate((SCRIPTS / file_name).read_text()).substitute(values)


def render_user_data(config: BootConfig) -> str:
    """The complete boot script: user_data.sh with the SQL scripts embedded."""
    values: dict[str, object] = {field.name: getattr(config, field.name) for field in fields(config)}
    for key, value in values.items():
        # The scripts quote these in shell and SQL; a quote or space in one would change the code.
        if not SAFE_VALUE.fullmatch(str(value)):
            raise ValueError(f"Oracle boot script value {key}={value!r}: expected letters, digits and ._-/:@+# only")
    values.update(
        pdb_name=PDB_NAME,
        outbound_server=OUTBOUND_SERVER,
        cdc_admin_user=CDC_ADMIN_USER,
        cdc_connect_user=CDC_CONNECT_USER,
        recovery_area_dir=RECOVERY_AREA_DIR,
        archive_retention_hours=ARCHIVE_RETENTION_HOURS,
    )
    for stem in SQL_SCRIPTS:
        values[f"sql_{stem}"] = render_script(f"{stem}.sql", values).rstrip("\n")
    user_data = render_script("user_data.sh", values)
    if len(user_data.encode()) > USER_DATA_LIMIT:
        raise ValueError(f"the Oracle boot script is {len(user_data.encode())} bytes; EC2 allows {USER_DATA_LIMIT}")
    return user_data


def recovery_area_gb(volume_gb: int) -> int:
    """A third of the root volume for archived logs; the OS, the XE image and XE's data (at most 12 GB) take the rest."""
    return max(10, volume_gb // 3)


def oracle_safe_password(generated: str) -> str:
    """The generated password rotated to start with its first letter, as Oracle requires of passwords.

    Rotation keeps every character, so the length and character-class minimums still hold.
    """
    first_letter = next(index for index, char in enumerate(generated) if char.isalpha())
    return generated[first_letter:] + generated[:first_letter]


@dataclass
class OracleDbArgs:
    settings: OracleSettings
    vpc_id: pulumi.Input[str]
    vpc_cidr: pulumi.Input[str]
    subnet_id: pulumi.Input[str]  # a public subnet: Confluent Cloud connects over the internet
    connector_cidrs: Sequence[str]  # Confluent CONNECT egress ranges (confluent_egress.connect_egress_cidrs)
    parameter_path: str  # SSM Parameter Store path of the passwords and the status, e.g. /fraud-dev/oracle


class OracleDb(pulumi.ComponentResource):
    instance_id: pulumi.Output[str]
    private_ip: pulumi.Output[str]
    public_dns: pulumi.Output[str]
    port: int
    cdb_name: str
    service_name: str
    pdb_name: str
    outbound_server: str
    app_user: str
    app_password: pulumi.Output[str]
    connect_user: str
    connect_password: pulumi.Output[str]
    status_parameter: pulumi.Output[str]
    ready: OracleReadiness

    def __init__(self, name: str, args: OracleDbArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("fraud:oracle:OracleDb", name, None, opts)
        settings = args.settings
        child = pulumi.ResourceOptions(parent=self)
        path = args.parameter_path.rstrip("/")

        def password_parameter(role: str) -> tuple[aws.ssm.Parameter, pulumi.Output[str]]:
            generated = random.RandomPassword(
                f"{name}-{role}-password",
                length=PASSWORD_LENGTH,
                special=True,
                override_special="_",  # $ and # are legal in Oracle but not harmless in shells and URLs
                min_lower=2,
                min_upper=2,
                min_numeric=2,
                min_special=1,
                opts=child,
            )
            password = pulumi.Output.secret(generated.result.apply(oracle_safe_password))
            parameter = aws.ssm.Parameter(
                f"{name}-{role}-password",
                name=f"{path}/{role}-password",
                type="SecureString",  # encrypted with the account's AWS managed key for SSM
                value=password,
                description=f"Oracle XE password ({role}); read by the database host at boot",
                opts=child,
            )
            return parameter, password

        sys_parameter, _ = password_parameter("sys")
        app_parameter, app_password = password_parameter("app")
        admin_parameter, _ = password_parameter("cdc-admin")
        connect_parameter, connect_password = password_parameter("cdc-connect")
        secret_parameters = [sys_parameter, app_parameter, admin_parameter, connect_parameter]

        status = aws.ssm.Parameter(
            f"{name}-status",
            name=f"{path}/status",
            type="String",
            value="pending",
            description="Set by the Oracle host: '<instance-id> ready' or '<instance-id> failed: <log tail>'",
            # The host overwrites the value; the stack only creates and deletes the parameter.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["value"]),
        )

        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
                    ],
                }
            ),
            opts=child,
        )
        # Session Manager only. AmazonSSMManagedInstanceCore would also allow ssm:GetParameter(s) on every
        # parameter in the account, which defeats the exact-ARN grant below; these five actions are what
        # Session Manager itself needs (they take no resource ARNs).
        session_policy = aws.iam.RolePolicy(
            f"{name}-session-manager",
            role=role.id,
            policy=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": [
                                "ssm:UpdateInstanceInformation",
                                "ssmmessages:CreateControlChannel",
                                "ssmmessages:CreateDataChannel",
                                "ssmmessages:OpenControlChannel",
                                "ssmmessages:OpenDataChannel",
                            ],
                            "Resource": "*",
                        }
                    ],
                }
            ),
            opts=child,
        )
        # No kms:Decrypt: the AWS managed key for SSM lets account principals decrypt through SSM itself.
        parameters_policy = aws.iam.RolePolicy(
            f"{name}-parameters",
            role=role.id,
            policy=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "ReadPasswords",
                            "Effect": "Allow",
                            "Action": "ssm:GetParameter",
                            "Resource": [parameter.arn for parameter in secret_parameters],
                        },
                        {"Sid": "ReportStatus", "Effect": "Allow", "Action": "ssm:PutParameter", "Resource": status.arn},
                    ],
                }
            ),
            opts=child,
        )
        profile = aws.iam.InstanceProfile(f"{name}-profile", role=role.id, opts=child)  # a role's id is its name

        # Confluent's ranges get groups of their own (as many as they need); this group admits the VPC.
        connectors = ConnectorIngress(
            f"{name}-connector-ingress",
            ConnectorIngressArgs(vpc_id=args.vpc_id, port=PORT, service="Oracle listener", connector_cidrs=args.connector_cidrs),
            opts=child,
        )
        ingress = [
            aws.ec2.SecurityGroupIngressArgs(
                description="Oracle listener from the VPC",
                protocol="tcp",
                from_port=PORT,
                to_port=PORT,
                cidr_blocks=[args.vpc_cidr],
            )
        ]
        if settings.ssh_key_name:
            ingress.append(
                aws.ec2.SecurityGroupIngressArgs(
                    description="SSH from the configured sources (oracleSshCidrs)",
                    protocol="tcp",
                    from_port=22,
                    to_port=22,
                    cidr_blocks=list(settings.ssh_cidrs),
                )
            )
        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description="Oracle XE: 1521 from the VPC (Confluent egress: connector-ingress groups)",
            ingress=ingress,
            # Outbound to the internet: package and image downloads, SSM and Session Manager endpoints.
            egress=[
                aws.ec2.SecurityGroupEgressArgs(
                    description="all outbound", protocol="-1", from_port=0, to_port=0, cidr_blocks=["0.0.0.0/0"]
                )
            ],
            tags={"Name": f"{name}-sg"},
            opts=child,
        )

        invoke = pulumi.InvokeOptions(parent=self)
        ami = aws.ssm.get_parameter_output(name=AMI_PARAMETER, opts=invoke)
        region = aws.get_region_output(opts=invoke).region
        user_data = pulumi.Output.all(region, status.name, *[p.name for p in secret_parameters]).apply(
            lambda values: render_user_data(
                BootConfig(
                    region=values[0],
                    image=settings.image,
                    app_schema=settings.app_schema,
                    status_parameter=values[1],
                    sys_password_parameter=values[2],
                    app_password_parameter=values[3],
                    cdc_admin_password_parameter=values[4],
                    cdc_connect_password_parameter=values[5],
                    recovery_area_gb=recovery_area_gb(settings.volume_gb),
                )
            )
        )

        instance = aws.ec2.Instance(
            f"{name}-instance",
            ami=ami.insecure_value,
            instance_type=settings.instance_type,
            subnet_id=args.subnet_id,
            associate_public_ip_address=True,
            vpc_security_group_ids=[security_group.id, *connectors.security_group_ids],
            iam_instance_profile=profile.id,  # an instance profile's id is its name
            key_name=settings.ssh_key_name or None,
            metadata_options=aws.ec2.InstanceMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",
                http_put_response_hop_limit=2,  # one hop more for processes in Docker containers
            ),
            root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(
                volume_type="gp3",
                volume_size=settings.volume_gb,
                encrypted=True,
                delete_on_termination=True,
            ),
            user_data=user_data,
            # A changed boot script only takes effect on a new host (user data runs once per instance).
            user_data_replace_on_change=True,
            tags={"Name": f"{name}-xe"},
            # A newer AMI must not replace a running database on the next `pulumi up`; new hosts get it.
            opts=pulumi.ResourceOptions(
                parent=self,
                ignore_changes=["ami"],
                depends_on=[*secret_parameters, status, session_policy, parameters_policy],
            ),
        )

        self.ready = OracleReadiness(
            f"{name}-ready",
            instance_id=instance.id,
            parameter_name=status.name,
            region=region,
            timeout_seconds=settings.ready_timeout_minutes * 60,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[instance, status]),
        )

        self.instance_id = instance.id
        self.private_ip = instance.private_ip
        self.public_dns = instance.public_dns
        self.port = PORT
        self.cdb_name = CDB_NAME
        self.service_name = SERVICE_NAME
        self.pdb_name = PDB_NAME
        self.outbound_server = OUTBOUND_SERVER
        self.app_user = settings.app_schema
        self.app_password = app_password
        self.connect_user = CDC_CONNECT_USER
        self.connect_password = connect_password
        self.status_parameter = status.name
        self.register_outputs(
            {
                "instance_id": self.instance_id,
                "private_ip": self.private_ip,
                "public_dns": self.public_dns,
                "port": self.port,
                "cdb_name": self.cdb_name,
                "service_name": self.service_name,
                "pdb_name": self.pdb_name,
                "outbound_server": self.outbound_server,
                "app_user": self.app_user,
                "app_password": self.app_password,
                "connect_user": self.connect_user,
                "connect_password": self.connect_password,
                "status_parameter": self.status_parameter,
            }
        )
