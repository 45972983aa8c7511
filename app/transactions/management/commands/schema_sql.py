"""`manage.py schema_sql`: the Oracle boot's app tables (components/oracle/app_schema.sql), generated offline."""
from django.core.management.base import BaseCommand

from transactions.schema_sql import migrate_sql, offline_oracle, oracle_script


class Command(BaseCommand):
    help = "Print what `migrate` does to an empty Oracle schema as the SQL*Plus script the database host runs at boot."

    def handle(self, *args, **options):
        self.stdout.write(oracle_script(migrate_sql(offline_oracle())), ending="")
