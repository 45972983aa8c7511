from django.contrib import admin

from transactions.models import UserTransaction


@admin.register(UserTransaction)
class UserTransactionAdmin(admin.ModelAdmin):
    list_display = ("id", "account", "amount", "ip_address", "received_at")
    list_select_related = ("account",)
    search_fields = ("account__username", "ip_address")
    date_hierarchy = "received_at"
