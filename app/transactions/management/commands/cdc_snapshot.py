"""Write the existing rows to the local change feed as snapshot records (what the CDC connector does first)."""
from django.core.management.base import BaseCommand, CommandError

from transactions import local_cdc


class Command(BaseCommand):
    help = f"Write existing users and transactions to the local change feed ({local_cdc.FEED_ENV}) as op 'r' records."

    def handle(self, *args, **options):
        directory = local_cdc.feed_dir()
        if directory is None:
            raise CommandError(f"{local_cdc.FEED_ENV} is not set: give the feed directory, e.g. {local_cdc.FEED_ENV}=/tmp/feed")
        counts = local_cdc.snapshot(directory)
        self.stdout.write(", ".join(f"{table}: {count}" for table, count in counts.items()))
