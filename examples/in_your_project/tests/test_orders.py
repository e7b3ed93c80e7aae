from __future__ import annotations

import orders_app


def test_the_password_was_read_at_import():
    assert orders_app.database_url() == "postgresql://orders:hunter2@db.internal/orders"


def test_the_application_writes_and_the_test_inspects(keyvault_session):
    version = orders_app.save_api_key("k-123")
    stored = keyvault_session.vault("https://orders-prod.vault.azure.net").secrets.get("api-key")
    assert (stored.version, stored.payload.value) == (version, "k-123")
