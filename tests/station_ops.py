"""How the station state machine reaches the station: by calling the services, or
through the HTTP API of a served app. Both answer in the services' own values and
exceptions, so the machine's model and invariants are the same for both."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx

from api.app import create_app, make_context
from api.schemas import unprintable
from api.threaded import served
from locker.codes import PickupCode
from locker.errors import CodeInvalid, DoorBusy, NoFreeCompartment, TooManyAttempts
from locker.locks import DoorOutcome
from locker.payments.cashier import Cashier
from locker.payments.due import Due, PaymentRequired
from locker.people import accounts, credentials
from locker.runtime.settings import Settings
from locker.services import beside, deadlines, deposit, intake, staff
from locker.services.doors import DoorResult
from locker.services.pickup import Collection
from locker.station import Station
from locker.types import Role


class Ops(Protocol):
    def reserve_new(
        self, data: intake.ParcelInput, *, fits_beside: bool = False
    ) -> intake.Reservation: ...
    def reserve(self, parcel_id: int) -> intake.Reservation: ...
    def deposit(self, parcel_id: int) -> DoorResult: ...
    def confirm(self, parcel_id: int) -> intake.Stored: ...
    def collect(self, code: str, terminal: int) -> Collection: ...
    def take_back(self, parcel_id: int) -> DoorResult: ...
    def extend(self, parcel_id: int, until: datetime) -> None: ...
    def open_door(self, compartment_id: int) -> DoorResult: ...
    def out_of_service(self, compartment_id: int) -> None: ...
    def clear_fault(self, compartment_id: int) -> None: ...
    def close(self) -> None: ...


class ServiceOps:
    """Straight to the services, as the API would call them."""

    def __init__(self, station: Station, cashier: Cashier) -> None:
        self.station = station
        self.cashier = cashier  # pay, open, confirm: the provider asked for unpaid parcels

    def reserve_new(
        self, data: intake.ParcelInput, *, fits_beside: bool = False
    ) -> intake.Reservation:
        if fits_beside:  # the courier says it fits beside the recipient's waiting parcel
            held = beside.reserve_beside(self.station, actor="courier", parcel=data)
            if held is not None:
                return held
        return deposit.reserve(self.station, actor="courier", parcel=data)

    def reserve(self, parcel_id: int) -> intake.Reservation:
        return deposit.reserve(self.station, actor="courier", parcel_id=parcel_id)

    def deposit(self, parcel_id: int) -> DoorResult:
        return deposit.deposit(self.station, actor="courier", parcel_id=parcel_id)

    def confirm(self, parcel_id: int) -> intake.Stored:
        return deposit.confirm_stored(self.station, parcel_id=parcel_id)

    def collect(self, code: str, terminal: int) -> Collection:
        return self.cashier.collect(code=code, terminal=f"kiosk-{terminal}")

    def take_back(self, parcel_id: int) -> DoorResult:
        return staff.take_back(self.station, actor="courier", parcel_id=parcel_id)

    def extend(self, parcel_id: int, until: datetime) -> None:
        deadlines.extend_deadline(self.station, actor="staff", parcel_id=parcel_id, until=until)

    def open_door(self, compartment_id: int) -> DoorResult:
        return staff.open_door(
            self.station, actor="staff", compartment_id=compartment_id, reason="check"
        )

    def out_of_service(self, compartment_id: int) -> None:
        staff.set_out_of_service(
            self.station, actor="staff", compartment_id=compartment_id, reason="test"
        )

    def clear_fault(self, compartment_id: int) -> None:
        staff.clear_fault(self.station, actor="staff", compartment_id=compartment_id)

    def close(self) -> None:
        pass


PASSWORD = "machine password"


class ApiOps:
    """Through HTTP: the app is served by uvicorn on loopback around the station; each
    terminal number is a client address of its own (127.0.0.N)."""

    def __init__(self, station: Station, tokens: dict[str, str], cashier: Cashier) -> None:
        self.station = station
        if not tokens:
            for name, role, carrier in (
                ("courier", Role.COURIER, "DHL"),
                ("staff", Role.STAFF, None),
            ):
                made = accounts.create_account(
                    station, name=name, role=role, carrier=carrier, actor="test", password=PASSWORD
                )
                tokens[name] = credentials.issue_token(
                    station, made.principal, ttl=timedelta(days=3650)
                ).token
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
        context = make_context(
            station, settings, links=cashier.links, card_terminal=cashier.terminal
        )
        app = create_app(context, background=False)
        self._stack = ExitStack()
        self.base = self._stack.enter_context(served(app))
        self.courier = self._client(tokens["courier"])
        self.staff = self._client(tokens["staff"])
        self.kiosks: dict[int, httpx.Client] = {}

    def _client(self, token: str | None = None, address: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        transport = httpx.HTTPTransport(local_address=address) if address else None
        return httpx.Client(base_url=self.base, headers=headers, timeout=30, transport=transport)

    @staticmethod
    def _raise(response: httpx.Response) -> None:
        if response.is_success:
            return
        assert response.headers["content-type"] == "application/problem+json", response.text
        body = response.json()
        code = body["code"]
        if code in (
            "no_free_compartment",
            "no_free_chilled_compartment",
            "no_free_frozen_compartment",
        ):
            raise NoFreeCompartment(body["detail"])
        if code == "code_invalid":
            raise CodeInvalid()
        if code == "door_busy":
            raise DoorBusy(body["detail"])
        if code == "too_many_attempts":
            raise TooManyAttempts(float(body["retry_after"]))
        raise AssertionError(f"{response.request.url}: {response.status_code} {body}")

    def _json(self, response: httpx.Response) -> Any:
        self._raise(response)
        return response.json()

    @staticmethod
    def _door(door: dict[str, Any]) -> DoorResult:
        return DoorResult(
            door["compartment_id"], DoorOutcome(door["outcome"]), tuple(door["parcel_ids"])
        )

    def _door_answer(self, response: httpx.Response) -> DoorResult:
        if response.status_code == 503:
            body = response.json()
            assert body["code"] == "door_did_not_open", body
            assert body["next"], body
            return self._door(body["door"])
        body = self._json(response)
        return self._door(body.get("door", body))

    @staticmethod
    def _reservation(parcel: dict[str, Any]) -> intake.Reservation:
        assert parcel["state"] == "reserved", parcel
        return intake.Reservation(
            parcel["id"], parcel["compartment_id"], datetime.fromisoformat(parcel["reserved_until"])
        )

    def reserve_new(
        self, data: intake.ParcelInput, *, fits_beside: bool = False
    ) -> intake.Reservation:
        body = {
            "tracking_number": data.tracking_number,
            "recipient_name": data.recipient_name,
            "recipient_email": data.recipient_email,
            "size": data.size.value if data.size else None,
            "needs_accessible": data.needs_accessible,
            "cold": data.cold.value if data.cold else None,
            "reserve": True,
            "fits_beside": fits_beside,
            "amount_due": data.amount_due_cents,
        }
        return self._reservation(self._json(self.courier.post("/api/v1/parcels", json=body)))

    def reserve(self, parcel_id: int) -> intake.Reservation:
        answer = self.courier.post(f"/api/v1/parcels/{parcel_id}/reserve")
        return self._reservation(self._json(answer))

    def deposit(self, parcel_id: int) -> DoorResult:
        return self._door_answer(self.courier.post(f"/api/v1/parcels/{parcel_id}/deposit"))

    def confirm(self, parcel_id: int) -> intake.Stored:
        body = self._json(self.courier.post(f"/api/v1/parcels/{parcel_id}/confirm"))
        code = body["code"]
        return intake.Stored(
            parcel_id,
            body["parcel"]["compartment_id"],
            datetime.fromisoformat(body["parcel"]["deadline"]),
            PickupCode(code["pin"], code["qr_token"]),
            tuple(code["opens_parcels"]),
        )

    def collect(self, code: str, terminal: int) -> Collection:
        kiosk = self.kiosks.get(terminal)
        if kiosk is None:
            kiosk = self._client(address=f"127.0.{terminal // 250}.{terminal % 250 + 2}")
            self.kiosks[terminal] = kiosk
        response = kiosk.post("/api/v1/collect", json={"code": code})
        if response.status_code == 422 and unprintable(code) is not None:
            # refused before it is looked at (issue 19): it opens nothing, as a wrong code
            assert response.json()["errors"][0]["where"] == "body.code", response.text
            raise CodeInvalid()
        if response.status_code == 503:
            body = response.json()
            assert body["code"] == "door_did_not_open", body
            return Collection(tuple(self._door(d) for d in body["doors"]))
        if response.status_code == 402:  # unpaid: what is due, and where to pay it
            due = response.json()["due"]
            raise PaymentRequired(
                tuple(
                    Due(
                        d["parcel_id"], d["amount_due"], d["currency"], d["pay_url"].rsplit("/")[-1]
                    )
                    for d in due
                )
            )
        return Collection(tuple(self._door(d) for d in self._json(response)["doors"]))

    def take_back(self, parcel_id: int) -> DoorResult:
        return self._door_answer(self.courier.post(f"/api/v1/parcels/{parcel_id}/take-back"))

    def extend(self, parcel_id: int, until: datetime) -> None:
        answer = self.staff.post(
            f"/api/v1/parcels/{parcel_id}/extend", json={"until": until.isoformat()}
        )
        assert self._json(answer)["state"] == "stored"

    def open_door(self, compartment_id: int) -> DoorResult:
        answer = self.staff.post(
            f"/api/v1/compartments/{compartment_id}/open", json={"reason": "check"}
        )
        return self._door_answer(answer)

    def out_of_service(self, compartment_id: int) -> None:
        answer = self.staff.post(
            f"/api/v1/compartments/{compartment_id}/out-of-service", json={"reason": "test"}
        )
        assert self._json(answer)["condition"] == "out_of_service"

    def clear_fault(self, compartment_id: int) -> None:
        answer = self.staff.post(f"/api/v1/compartments/{compartment_id}/clear-fault", json={})
        assert self._json(answer)["condition"] == "ok"

    def close(self) -> None:
        for client in (self.courier, self.staff, *self.kiosks.values()):
            client.close()
        self._stack.close()
