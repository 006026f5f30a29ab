"""``mteja invoice list|pdf`` and ``mteja receipt list|pdf``: real PDF files, clear errors."""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfReader

from mteja.cli import app


def _customer(ready, installation_fee: str = "0") -> str:
    added = ready(
        "customer",
        "add",
        "--name",
        "Akinyi Otieno",
        "--phone",
        "0712345678",
        "--plan",
        "Home 10M",
        "--router",
        "core-1",
        "--paid",
        "mpesa",
        "--amount",
        "2000",
        "--reference",
        "SKA1B2C3D4",
        "--installation-fee",
        installation_fee,
    )
    assert added.exit_code == 0, added.stderr
    return added.output.splitlines()[0].strip()


def _text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_invoice_list_and_pdf(ready, workdir: Path) -> None:
    account = _customer(ready, installation_fee="500")
    listing = ready("invoice", "list", account)
    assert listing.exit_code == 0, listing.stderr
    assert "INV-000002" in listing.output and "INV-000001" in listing.output
    assert "Home 10M" in listing.output and "installation" in listing.output
    assert "2 invoice(s), KES 0 unpaid" in listing.output

    written = ready("invoice", "pdf", "INV-000002", "-o", "renewal.pdf")
    assert written.exit_code == 0, written.stderr
    assert "INV-000002 written to renewal.pdf" in written.output
    pdf = workdir / "renewal.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = _text(pdf)
    assert "INVOICE" in text and "INV-000002" in text and account in text
    assert "Akinyi Otieno" in text and "mteja ISP" in text
    assert "Total KES 1,500" in text and "Balance due KES 0" in text
    assert "SKA1B2C3D4" in text and "RCT-000001" in text

    default_name = ready("invoice", "pdf", "1")
    assert default_name.exit_code == 0
    assert "Installation fee" in _text(workdir / "INV-000001.pdf")


def test_receipt_list_and_pdf(ready, workdir: Path) -> None:
    account = _customer(ready)
    listing = ready("receipt", "list", account)
    assert listing.exit_code == 0 and "RCT-000001" in listing.output
    assert "SKA1B2C3D4" in listing.output
    written = ready("receipt", "pdf", "RCT-000001", "--output", "r.pdf")
    assert written.exit_code == 0, written.stderr
    text = _text(workdir / "r.pdf")
    assert "RECEIPT" in text and "M-Pesa receipt SKA1B2C3D4" in text
    assert "Amount received KES 2,000" in text and "Kept as credit KES 500" in text


def test_bad_numbers_and_paths_fail_clearly_and_write_nothing(ready, workdir: Path) -> None:
    _customer(ready)
    missing = ready("invoice", "pdf", "INV-000099", "-o", "x.pdf")
    assert missing.exit_code == 1
    assert missing.stderr.strip() == "error: there is no invoice INV-000099"
    malformed = ready("invoice", "pdf", "RCT-1", "-o", "x.pdf")
    assert malformed.exit_code == 1
    assert "'RCT-1' is not an invoice number (like INV-000123)" in malformed.stderr
    assert not (workdir / "x.pdf").exists()
    unwritable = ready("invoice", "pdf", "1", "-o", "no/such/dir/x.pdf")
    assert unwritable.exit_code == 1 and "cannot write no/such/dir/x.pdf" in unwritable.stderr
    nobody = ready("invoice", "list", "MTJ-0000000")
    assert nobody.exit_code == 1 and nobody.stderr.startswith("error: ")
    missing_receipt = ready("receipt", "pdf", "7")
    assert missing_receipt.exit_code == 1
    assert missing_receipt.stderr.strip() == "error: there is no receipt RCT-000007"


def test_help_names_the_sub_commands() -> None:
    from typer.testing import CliRunner

    shown = CliRunner().invoke(app, ["invoice", "--help"])
    assert shown.exit_code == 0 and "pdf" in shown.output and "list" in shown.output
