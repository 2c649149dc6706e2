"""The `pii` stage: checksummed detectors, typed placeholders, the keep-list, the density reject, traps left
alone, bad text; precision/recall goals from the bench. (`curate run` of the bad-input corpus through pii and
decontaminate: tests/test_decontaminate.py.)"""
import pytest
from datatrove.data import Document

from curate.errors import ConfigError
from curate.filters.pii import PiiRedactor
from curate.filters.pii_patterns import cpf_ok, dni_ok, find_pii, iban_ok, luhn_ok
from curate.pipelines.benches import pii as bench
from curate.pipelines.run import check_stages
from curate.pipelines.spec import load_spec


def run_stage(texts, **params) -> list[Document]:
    docs = [Document(text=t, id=str(i), metadata={}) for i, t in enumerate(texts)]
    return list(PiiRedactor(**params).run(iter(docs)))


@pytest.fixture(scope="module")
def measured() -> dict:
    return bench.run(n_docs=300, rounds=1, presidio=False)


def test_bench_meets_the_precision_and_recall_goals(measured):
    assert measured["planted"] > 300
    for kind, row in measured["per_type"].items():
        assert row["planted"] >= 10, kind
        assert row["precision"] >= bench.GOAL_PRECISION and row["recall"] >= bench.GOAL_RECALL, (kind, row)
    assert measured["trap_and_prose_hits"] == 0, measured["trap_and_prose_examples"]
    assert measured["stage_output_exact"] == 1.0


def test_checksums_accept_valid_numbers_and_refuse_one_digit_off():
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert iban_ok("GB82WEST12345698765432") and iban_ok("DE89370400440532013000")
    assert not iban_ok("GB82WEST12345698765433") and not iban_ok("DE8937040044053201300")  # digit, length
    assert dni_ok("12345678Z") and not dni_ok("12345678A") and dni_ok("X1234567L")
    assert cpf_ok("111.444.777-35") and not cpf_ok("111.444.777-36") and not cpf_ok("111.111.111-11")


def test_each_type_gets_its_placeholder_and_a_count():
    text = ("Mail anna.k@mailbox.org or call +44 20 7946 0958. Card 4111 1111 1111 1111, IBAN GB82 WEST 1234 5698 "
            "7654 32, server 8.8.8.8 and 2606:4700:4700::1111, SSN 536-22-1234, DNI 12345678Z, CPF 111.444.777-35.")
    doc, = run_stage([text])
    assert doc.text == ("Mail <EMAIL> or call <PHONE>. Card <CREDIT_CARD>, IBAN <IBAN>, server <IP_ADDRESS> and "
                        "<IP_ADDRESS>, SSN <US_SSN>, DNI <ES_DNI>, CPF <BR_CPF>.")
    counts = doc.metadata["pii"]
    assert {k: v for k, v in counts.items() if k not in ("total", "per_1k_words")} == {
        "email": 1, "phone": 1, "credit_card": 1, "iban": 1, "ipv4": 1, "ipv6": 1, "us_ssn": 1, "es_dni": 1,
        "br_cpf": 1}
    assert counts["total"] == 9 and counts["per_1k_words"] == round(9000 / len(text.split()), 3)


def test_traps_and_the_keep_list_stay_untouched():
    for trap in bench.TRAPS:
        doc, = run_stage([f"The notes mention {trap} here."])
        assert doc.text == f"The notes mention {trap} here.", trap
        assert doc.metadata["pii"]["total"] == 0, trap


def test_keep_list_is_configurable():
    text = "Help desk help@acme.org, staff bob@acme.org, router 192.168.1.1, docs user@example.com."
    default, = run_stage([text])
    assert default.text == "Help desk <EMAIL>, staff <EMAIL>, router 192.168.1.1, docs user@example.com."
    custom, = run_stage([text], keep=["help@acme.org"], keep_private_ips=False, keep_domains=[])
    assert custom.text == "Help desk help@acme.org, staff <EMAIL>, router <IP_ADDRESS>, docs <EMAIL>."
    only_email, = run_stage([text], types=["email"], placeholder="[{type}]", keep_domains=[])
    assert only_email.text == "Help desk [EMAIL], staff [EMAIL], router 192.168.1.1, docs [EMAIL]."


def test_dense_documents_are_rejected_redacted():
    sparse = " ".join(["word"] * 200) + " write to ann@acme.org"
    dense = "ann@acme.org bob@acme.org +44 20 7946 0958 cal@acme.org today"
    kept, rejected = run_stage([sparse, dense], max_pii_per_1k_words=10)
    assert "rejected" not in kept.metadata and "<EMAIL>" in kept.text
    assert rejected.metadata["rejected"] == "pii_density"
    assert rejected.metadata["rejected_detail"] == "pii_per_1k_words=500.0 > 10.0 (email=3, phone=1)"
    assert "@" not in rejected.text  # rejected shards hold no more personal data than kept ones


def test_bad_text_does_not_stop_the_stage():
    texts = ["", "   ", "lone \ud800 surrogate ann@acme.org \udfff", "\x00\x01 binary 4111111111111111 \ufffe",
             "@" * 5000 + "x@y" * 2000, "+" * 3000 + "1" * 3000, ":" * 4000 + "1:" * 2000]
    docs = run_stage(texts)
    assert len(docs) == len(texts) and not any(d.metadata.get("rejected") for d in docs)
    assert docs[2].text == "lone \ud800 surrogate <EMAIL> \udfff" and docs[3].text.count("<CREDIT_CARD>") == 1


def test_overlaps_go_to_the_earlier_detector():
    spans = find_pii("IBAN DE89 3704 0044 0532 0130 00, mail 4111111111111111@cards.acme.org")
    assert [s.type for s in spans] == ["iban", "email"]


def test_unknown_types_and_bad_placeholders_are_config_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown PII types"):
        PiiRedactor(types=["email", "passport"])
    with pytest.raises(ValueError, match="placeholder"):
        PiiRedactor(placeholder="<{kind}>")
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: p\ninput: {path: in, format: jsonl}\nstages:\n  - pii: {backend: presidio, "
                    "spacy_model: no_such_spacy_model}\n")
    with pytest.raises(ConfigError, match="does not download models|curate\\[pii\\]"):  # what `curate validate` runs
        check_stages(load_spec(spec))


def test_presidio_backend_without_its_model_fails_at_setup_not_per_document():
    stage = PiiRedactor(backend="presidio", spacy_model="no_such_spacy_model")
    with pytest.raises(ConfigError, match="does not download models|curate\\[pii\\]"):
        stage.setup()
