"""The table that CDC captures next to auth_user (SAMPLE.USER_TRANSACTION on Oracle)."""
from django.conf import settings
from django.db import models
from django.utils import timezone


class UserTransaction(models.Model):
    id = models.BigAutoField(primary_key=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    received_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField()  # VARCHAR2(39) on Oracle: fits any IPv6 text form
    account = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="transactions")

    class Meta:
        db_table = "user_transaction"

    def __str__(self) -> str:
        return f"{self.amount} from {self.ip_address} at {self.received_at:%Y-%m-%d %H:%M:%S}"
