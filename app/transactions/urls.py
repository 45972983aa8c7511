from django.urls import path

from transactions import local_flags, views

app_name = "transactions"

urlpatterns = [
    path("", views.index, name="index"),
    path("api/transactions", views.recent_transactions, name="recent"),
    path("api/transactions/stream", views.stream_transaction, name="stream"),
    path("api/fraud", views.simulate_fraud, name="fraud"),
    path("api/local/flags", local_flags.flags, name="local-flags"),
]
