"""Secrets at rest: Fernet round trip, key errors, and no plain password in any column."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.crypto import SecretBox, SecretKeyError, new_secret_key
from core.models import Customer, Router
from core.usecases.customers import reveal_password
from core.usecases.network import router_login


def test_round_trip() -> None:
    box = SecretBox(new_secret_key())
    ciphertext = box.encrypt("s3cret-pass")
    assert ciphertext != "s3cret-pass"
    assert "s3cret-pass" not in ciphertext
    assert box.decrypt(ciphertext) == "s3cret-pass"


def test_same_plaintext_encrypts_differently_each_time() -> None:
    box = SecretBox(new_secret_key())
    assert box.encrypt("same") != box.encrypt("same")


def test_wrong_key_cannot_decrypt() -> None:
    ciphertext = SecretBox(new_secret_key()).encrypt("s3cret")
    with pytest.raises(SecretKeyError, match="cannot be decrypted"):
        SecretBox(new_secret_key()).decrypt(ciphertext)


def test_tampered_ciphertext_cannot_be_decrypted() -> None:
    box = SecretBox(new_secret_key())
    ciphertext = box.encrypt("s3cret")
    with pytest.raises(SecretKeyError):
        box.decrypt(ciphertext[:-4] + "AAAA")


@pytest.mark.parametrize("key", ["", "not-a-fernet-key", "c2hvcnQ="])
def test_missing_or_malformed_key_is_refused(key: str) -> None:
    with pytest.raises(SecretKeyError, match="MTEJA_SECRET_KEY"):
        SecretBox(key)


def test_customer_password_column_holds_ciphertext_only(services, make_customer) -> None:
    customer_id = make_customer(password="pl4in-pass")
    with services.unit_of_work() as uow:
        stored = uow.session.scalar(
            select(Customer.password_encrypted).where(Customer.id == customer_id)
        )
        customer = uow.session.get(Customer, customer_id)
        assert stored is not None
        assert "pl4in-pass" not in stored
        assert services.cipher.decrypt(stored) == "pl4in-pass"
        assert reveal_password(uow, customer) == "pl4in-pass"


def test_router_password_column_holds_ciphertext_only(services, isp) -> None:
    with services.unit_of_work() as uow:
        router = uow.session.scalars(select(Router).where(Router.name == isp.router)).one()
        assert router.password_encrypted != "secret"
        assert "secret" not in router.password_encrypted
        assert router_login(uow, router.id).password == "secret"
