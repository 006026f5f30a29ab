"""/import: a CSV of customers; progress, row-by-row errors, and no half-made customers."""

from __future__ import annotations

from sqlalchemy import func, select

from core.models import Customer, LedgerEntry, Payment

GOOD_AND_BAD = (
    b"Name,Phone,Plan,Router,Paid,Amount,Reference,Fee\n"
    b"Alice Njeri,0711000001,Home 10M,core-1,cash,1500,,\n"
    b"Bob Otieno,0711000002,Home 20M,core-1,mpesa,2500,,\n"  # M-Pesa without receipt
    b"Carol Wairimu,not-a-phone,Home 10M,core-1,,,,\n"
    b"Dan Kiptoo,0711000004,Daily 5M,core-1,,,,\n"
    b"Eve Chebet,0711000005,No Such Plan,core-1,,,,\n"
    b"Fay Atieno,0711000006,Home 10M,core-1,cash,2000,,500\n"
    b",,,,,,,\n"
)


def _counts(services) -> tuple[int, int, int]:
    with services.unit_of_work() as uow:
        return tuple(  # type: ignore[return-value]
            int(uow.session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Customer, Payment, LedgerEntry)
        )


def _run(answer) -> tuple[list[str], object]:
    assert answer.job is not None
    progress = list(answer.job.steps())
    return progress, answer.job.finish()


def test_import_with_good_and_bad_rows(chat, services) -> None:
    admin = chat("admin")
    assert admin.say("/import").text.startswith("Send the CSV file now")
    answer = admin.send_file("customers.csv", GOOD_AND_BAD)
    assert answer.text == "Importing customers.csv: 0/6 rows · 0 added · 0 refused"
    progress, final = _run(answer)
    assert progress[-1] == "Importing customers.csv: 6/6 rows · 3 added · 3 refused"
    assert len(progress) == 6
    assert final.edit
    lines = final.text.splitlines()
    assert lines[0] == (
        "Import of customers.csv finished: 3 customer(s) added, 3 row(s) refused "
        "(nothing of a refused row was saved)."
    )
    assert lines[2:] == [
        "line 3: an M-Pesa payment needs its receipt number as the reference",
        "line 4: 'not-a-phone' is not a phone number",
        "line 6: plan not found: 'No Such Plan'",
    ]
    with services.unit_of_work() as uow:
        names = sorted(uow.session.scalars(select(Customer.full_name)))
        statuses = {
            name: status
            for name, status in uow.session.execute(select(Customer.full_name, Customer.status))
        }
    assert names == ["Alice Njeri", "Dan Kiptoo", "Fay Atieno"]
    assert statuses["Alice Njeri"] == "active" and statuses["Dan Kiptoo"] == "inactive"
    # Bob's row failed after his customer row would have been made: nothing of it stayed.
    customers, payments, ledger = _counts(services)
    assert (customers, payments) == (3, 2)
    assert ledger == 5  # Alice: payment + charge; Fay: fee + payment + charge


def test_a_file_needs_import_first_and_the_right_role(chat) -> None:
    assert (
        chat("admin")
        .send_file("x.csv", GOOD_AND_BAD)
        .text.startswith("To add customers from a file, send /import first.")
    )
    assert chat("agent").send_file("x.csv", GOOD_AND_BAD, "/import").text == (
        "Your role (agent) may not use /import."
    )


def test_caption_import_starts_at_once(chat) -> None:
    answer = chat("owner").send_file("x.csv", GOOD_AND_BAD, caption="/import")
    assert answer.job is not None


def test_files_that_are_not_customer_lists(chat, services) -> None:
    admin = chat("admin")
    for content, reason in [
        (b"", "the file is empty"),
        (b"Name,Phone\nA,0711000001\n", "missing: plan, router"),
        (b"Name,Phone,Plan,Router\n", "the file has a header but no customers"),
    ]:
        admin.say("/import")
        answer = admin.send_file("bad.csv", content)
        assert answer.job is None
        assert reason in answer.text
    assert _counts(services)[0] == 0


def test_cancel_stops_waiting_for_the_file(chat) -> None:
    admin = chat("admin")
    admin.say("/import")
    assert admin.say("/cancel").text == "Import cancelled."
    assert admin.send_file("x.csv", GOOD_AND_BAD).text.startswith("To add customers")


def test_progress_is_shown_about_ten_times_for_a_big_file(chat) -> None:
    rows = "".join(f"Person {n},07110{n:05d},Daily 5M,core-1\n" for n in range(1, 41))
    answer = chat("owner").send_file(
        "big.csv", ("name,phone,plan,router\n" + rows).encode(), "/import"
    )
    progress, final = _run(answer)
    assert len(progress) == 10
    assert "40 customer(s) added" in final.text
