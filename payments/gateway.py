"""The MpesaGateway port over the Daraja client: Daraja's errors become core's."""

from __future__ import annotations

from core.ports import (
    GatewayOutcomeUnknown,
    GatewayRejected,
    GatewayUnavailable,
    StkPushSent,
    StkQueryAnswer,
)
from payments.daraja import (
    DarajaAuthFailed,
    DarajaClient,
    DarajaOutcomeUnknown,
    DarajaRejected,
    DarajaUnavailable,
)


class DarajaMpesaGateway:
    """MpesaGateway backed by Safaricom Daraja (or the fake Daraja server)."""

    def __init__(self, client: DarajaClient) -> None:
        self.client = client

    def stk_push(
        self,
        phone: str,
        amount_kes: int,
        account_reference: str,
        description: str,
        callback_url: str,
    ) -> StkPushSent:
        try:
            accepted = self.client.stk_push(
                phone, amount_kes, account_reference, description, callback_url
            )
        except DarajaOutcomeUnknown as error:
            raise GatewayOutcomeUnknown(str(error)) from error
        except DarajaUnavailable as error:
            raise GatewayUnavailable(str(error)) from error
        except (DarajaRejected, DarajaAuthFailed) as error:
            raise GatewayRejected(str(error)) from error
        return StkPushSent(accepted.merchant_request_id, accepted.checkout_request_id)

    def stk_query(self, checkout_request_id: str) -> StkQueryAnswer:
        try:
            result = self.client.stk_query(checkout_request_id)
        except DarajaUnavailable as error:
            raise GatewayUnavailable(str(error)) from error
        except (DarajaRejected, DarajaAuthFailed) as error:
            raise GatewayRejected(str(error)) from error
        return StkQueryAnswer(result.status.value, result.result_code, result.result_desc)
