"""The Oracle boot script's settings as the tests render it."""
from components.oracle_db import BootConfig
from mockcloud.answers import REGION


def boot_config(**changes) -> BootConfig:
    values = dict(
        region=REGION,
        image="container-registry.oracle.com/database/express:21.3.0-xe",
        app_schema="SAMPLE",
        status_parameter="/t/oracle/status",
        sys_password_parameter="/t/oracle/sys-password",
        app_password_parameter="/t/oracle/app-password",
        cdc_admin_password_parameter="/t/oracle/cdc-admin-password",
        cdc_connect_password_parameter="/t/oracle/cdc-connect-password",
        app_schema_parameter="/t/oracle/app-schema-sql",
        recovery_area_gb=20,
    )
    values.update(changes)
    return BootConfig(**values)
