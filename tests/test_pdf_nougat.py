"""Nougat's whole code path with a tiny random model the test builds, and its post-processing."""
import pytest
from datatrove.data import Document, Media, MediaType

from curate.pipelines.benches.pdfs import sample_pages, scanned_pdf
from curate.stages.ocr.nougat_text import clean_page, cut_repeated_lines, cut_tail_repetition, fix_markdown, join_pages
from curate.stages.pdf import PdfExtractor

CHARS = list("abcdefghijklmnopqrstuvwxyz0123456789 .,()=+-\\$^_{}\n")


def build_tiny_nougat(folder, loop_char: str = "a"):
    """A randomly initialised Swin encoder + mBART decoder, a character tokenizer built here, and a
    generation config that only allows `loop_char`: the model loops like a real Nougat sometimes does."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import (
        DonutSwinConfig,
        GenerationConfig,
        MBartConfig,
        NougatImageProcessorPil,
        NougatProcessor,
        NougatTokenizerFast,
        VisionEncoderDecoderConfig,
        VisionEncoderDecoderModel,
    )

    vocab = {t: i for i, t in enumerate(["<s>", "<pad>", "</s>", "<unk>"] + CHARS)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    tok.decoder = decoders.Fuse()
    tokenizer = NougatTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
                                    unk_token="<unk>")
    processor = NougatProcessor(image_processor=NougatImageProcessorPil(size={"height": 64, "width": 48}),
                                tokenizer=tokenizer)
    encoder = DonutSwinConfig(image_size=[64, 48], patch_size=4, embed_dim=16, depths=[1, 1], num_heads=[1, 2],
                              window_size=4)
    decoder = MBartConfig(vocab_size=len(vocab), d_model=32, decoder_layers=1, decoder_attention_heads=2,
                          decoder_ffn_dim=32, max_position_embeddings=256, is_decoder=True, add_cross_attention=True,
                          bos_token_id=0, pad_token_id=1, eos_token_id=2, decoder_start_token_id=0)
    config = VisionEncoderDecoderConfig.from_encoder_decoder_configs(encoder, decoder)
    config.decoder_start_token_id, config.pad_token_id, config.eos_token_id = 0, 1, 2
    torch.manual_seed(0)
    model = VisionEncoderDecoderModel(config)
    model.generation_config = GenerationConfig(
        decoder_start_token_id=0, bos_token_id=0, pad_token_id=1, eos_token_id=2,
        suppress_tokens=[i for t, i in vocab.items() if t != loop_char])
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_nougat(tmp_path_factory):
    return str(build_tiny_nougat(tmp_path_factory.mktemp("tiny-nougat")))


def test_nougat_engine_runs_through_the_pdf_stage(tiny_nougat):
    scan = scanned_pdf(sample_pages(2, lines_per_page=4, seed=7), dpi=72, bilevel=True)
    stage = PdfExtractor(mode="ocr", batch_pages=2,
                         ocr={"engine": "nougat", "model": tiny_nougat, "device": "cpu", "max_new_tokens": 40})
    doc = Document(text="", id="paper", media=[Media(id="paper", type=MediaType.DOCUMENT, url="", media_bytes=scan)])
    doc = list(stage.run(iter([doc])))[0]
    assert "rejected" not in doc.metadata, doc.metadata
    assert [(p["page"], p["engine"]) for p in doc.metadata["pages"]] == [(1, "nougat"), (2, "nougat")]
    # each page generated 40 x "a"; the repetition cut leaves one "a"; pages joined as one sentence
    assert doc.text == "a a"


def test_nougat_needs_a_model_and_one_that_cannot_load_fails_the_run(tmp_path):
    with pytest.raises(ValueError, match="ocr.model is required"):
        PdfExtractor(mode="ocr", ocr={"engine": "nougat"})
    stage = PdfExtractor(mode="ocr", ocr={"engine": "nougat", "model": str(tmp_path / "missing"), "device": "cpu"})
    with pytest.raises(RuntimeError, match="could not be loaded"):
        list(stage.run(iter([Document(text="", id="x")])))


def test_repetition_cut_and_markdown_fixes():
    assert cut_tail_repetition("Intro. " + "the model " * 12) == ("Intro. the model", True)
    assert cut_tail_repetition("a short ... ...")[1] is False
    assert cut_repeated_lines("a\nb\nb\nc\nc\nc\nc\nd") == ("a\nb\nb\nc\nd", True)
    assert fix_markdown("x \\[ a=b \\] (3)\n\n\n\ny \\[ cut off") == "x \\[ a=b \\tag{3}\\]\n\ny"
    assert clean_page("## Results\n\n" + "| 1 | 2 |\n" * 6).count("| 1 | 2 |") == 1
    assert join_pages(["An exam-", "ple of text and", "more words.", "New page."]) == \
        "An example of text and more words.\n\nNew page."
