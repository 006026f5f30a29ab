"""A router's answer is recorded only against the change it was about (issue 14.8).

Once, a refusal of an older change was written over a newer change's sync status: the newer
change, never tried, showed the old refusal to staff and was left out of the pending syncs.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from core.actors import Actor
from core.models import Customer
from core.unit_of_work import CoreServices
from core.usecases.customers import NewCustomer, create_customer
from core.usecases.network import RouterSpec, add_pool, add_router
from core.usecases.plans import PlanSpec, add_plan
from core.usecases.service import suspend
from routers.gateway import RouterRejected
from routers.sync import RouterSync
from sim.routeros.memory_gateway import InMemoryRouterGateway


class RefusesWhileStaffChangeTheCustomer(InMemoryRouterGateway):
    """Refuses every secret it is asked to add; during the first, staff suspend the customer."""

    def __init__(self, services: CoreServices, customer_id: int) -> None:
        super().__init__()
        self.services = services
        self.customer_id = customer_id
        self.refused = False

    def add(self, menu: str, attrs: Mapping[str, str]) -> str:
        if menu == "/ppp/secret":
            if not self.refused:
                self.refused = True
                with self.services.unit_of_work() as uow:
                    suspend(uow, self.customer_id, Actor.cli(), "cable cut")
                    uow.commit()
            raise RouterRejected("invalid value for argument profile")
        return super().add(menu, attrs)


def _isp_with_a_customer(services: CoreServices) -> tuple[int, int]:
    staff = Actor.cli()
    with services.unit_of_work() as uow:
        router = add_router(
            uow, staff, RouterSpec("core-1", "127.0.0.1", 8728, "admin", "pw", plain_api=True)
        )
        add_pool(uow, staff, "core-1", "10.30.0.0/24")
        add_plan(uow, staff, PlanSpec("Home 10M", "pppoe", 1500, "10M", "5M", validity_days=30))
        customer = create_customer(
            uow,
            staff,
            NewCustomer(
                full_name="Otieno Were",
                phone="0712345001",
                connection_type="pppoe",
                plan="Home 10M",
                router="core-1",
                send_welcome=False,
            ),
        ).customer
        uow.commit()
        return router.id, customer.id


def test_a_refusal_of_an_older_change_leaves_the_newer_change_pending_and_unrefused(
    services: CoreServices,
) -> None:
    router_id, customer_id = _isp_with_a_customer(services)
    gateway = RefusesWhileStaffChangeTheCustomer(services, customer_id)
    RouterSync(services, lambda login: gateway).sync_pending(router_id)
    assert gateway.refused
    with services.unit_of_work() as uow:
        customer = uow.session.scalars(select(Customer).where(Customer.id == customer_id)).one()
        assert customer.status == "suspended"
        assert customer.sync_pending, "the suspension was never sent"
        assert customer.sync_error is None, "the refusal was of the change before it"
