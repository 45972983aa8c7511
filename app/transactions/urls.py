from django.urls import path

from transactions import views

app_name = "transactions"

urlpatterns = [
    path("", views.index, name="index"),
    path("api/transactions", views.recent_transactions, name="recent"),
    path("api/transactions/stream", views.stream_transaction, name="stream"),
    path("api/fraud", views.simulate_fraud, name="fraud"),
]
