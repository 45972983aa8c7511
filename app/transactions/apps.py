from django.apps import AppConfig


class TransactionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "transactions"

    def ready(self):
        # `make demo` only: a local change feed standing in for Oracle CDC (off unless LOCAL_CDC_FEED is set).
        from transactions import local_cdc

        local_cdc.connect()
