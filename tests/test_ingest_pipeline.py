"""Batch ingest: good files go in, each bad file is reported, the index is never half-written.

Fixtures are written to tmp_path at test time; the index uses the `hashing` test embedder
(deterministic char n-gram hashing, not a real model) so these tests run fast.
"""

from __future__ import annotations

import codecs
import json
import shutil
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.ingest.pipeline import expand_paths, ingest_files
from assistant.service import ingest_into_index
from assistant.settings import Settings

CORPUS = Path(__file__).resolve().parent.parent / "index" / "corpus"
SAMPLES = sorted(CORPUS.glob("*.txt"))
ENCODINGS = {
    "gb18030": lambda text: text.encode("gb18030"),
    "utf-16-le with BOM": lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
    "utf-16-be without BOM": lambda text: text.encode("utf-16-be"),
    "utf-8 with BOM": lambda text: text.encode("utf-8-sig"),
}


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(index_dir=tmp_path / "index", embedder="hashing")


@pytest.fixture(autouse=True)
def only_the_ingest_command(monkeypatch):
    # The real `assistant` entry point, with just this command registered, so these tests
    # do not depend on the other commands' modules.
    import assistant.cli

    monkeypatch.setattr(assistant.cli, "COMMANDS", ("ingest",))


def sample(prefix: str) -> Path:
    return next(p for p in SAMPLES if p.name.startswith(prefix))


def copy_sample(prefix: str, folder: Path, encode=None, name: str | None = None) -> Path:
    source = sample(prefix)
    target = folder / (name or source.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = source.read_text(encoding="utf-8")
    target.write_bytes(encode(text) if encode else text.encode("utf-8"))
    return target


def bad_files(folder: Path) -> dict[str, Path]:
    """One file per bad-input case, keyed by the error code it must produce."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "empty": folder / "empty.txt",
        "binary": folder / "image.txt",
        "undecodable": folder / "noise.md",
        "unsupported": folder / "table.xlsx",
        "corrupt": folder / "broken.pdf",
        "too_large": folder / "huge.txt",
    }
    files["empty"].write_bytes(b"")
    files["binary"].write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 50)
    files["undecodable"].write_bytes(bytes(range(0x80, 0x100)) * 4)
    files["unsupported"].write_bytes(b"PK\x03\x04")
    files["corrupt"].write_bytes(b"%PDF-1.4\n garbage")
    files["too_large"].write_text("条" * 30_000, encoding="utf-8")  # 90 KB > the 64 KB limit
    files["missing"] = folder / "never-written.txt"
    return files


# --- directory expansion --------------------------------------------------------------

def test_directories_expand_recursively_skipping_hidden_and_unsupported(tmp_path):
    # A scanned page (.png) is read by OCR, so a folder of scans goes in too.
    for name in ("a.txt", "sub/b.html", "sub/deeper/c.docx", "d.pdf", "e.MD", "sub/scan.png"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    for name in (".hidden.txt", ".git/notes.txt", "sub/picture.gif", "sub/sheet.xlsx"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    found = [p.relative_to(tmp_path).as_posix() for p in expand_paths([tmp_path])]
    assert found == ["a.txt", "d.pdf", "e.MD", "sub/b.html", "sub/deeper/c.docx", "sub/scan.png"]


def test_excluded_names_in_a_folder_are_skipped_and_the_rest_ingested(tmp_path, capsys):
    # A collection's own file list (SOURCES.md) or README is not a policy document.
    (tmp_path / "corpus" / "sub").mkdir(parents=True)
    (tmp_path / "corpus" / "SOURCES.md").write_text("| file | source |\n|---|---|\n| a.txt | x |",
                                                   encoding="utf-8")
    (tmp_path / "corpus" / "sub" / "README.txt").write_text("说明", encoding="utf-8")
    (tmp_path / "corpus" / "a.txt").write_text(
        "某某市卫生健康局关于加强管理的通知\n一、加强组织领导。各单位要明确责任。\n",
        encoding="utf-8")
    found = expand_paths([tmp_path / "corpus"], ["SOURCES.md", "README*"])
    assert [p.name for p in found] == ["a.txt"]
    assert len(expand_paths([tmp_path / "corpus"])) == 3
    assert main(["--index-dir", str(tmp_path / "index"), "--embedder", "hashing", "ingest",
                 str(tmp_path / "corpus"), "--exclude", "SOURCES.md", "--exclude", "README*",
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [d["source"] for d in report["documents"]] == ["a.txt"] and not report["errors"]


def test_a_file_named_twice_is_read_once_and_named_files_keep_any_type(tmp_path):
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "sheet.xlsx").write_text("x")
    found = expand_paths([tmp_path / "a.txt", tmp_path, tmp_path / "sheet.xlsx"])
    assert [p.name for p in found] == ["a.txt", "sheet.xlsx"]


# --- the batch ------------------------------------------------------------------------

def test_good_files_go_in_and_every_bad_file_is_listed(tmp_path, settings):
    settings = settings.with_(max_file_bytes=64_000)
    good = [copy_sample("001", tmp_path / "in"),
            copy_sample("003", tmp_path / "in", ENCODINGS["gb18030"])]
    bad = bad_files(tmp_path / "bad")
    documents, report = ingest_files([*good, *bad.values()], settings)
    assert [d.source for d in documents] == [p.name for p in good]
    assert [d.number for d in report.documents] == ["开州府办发〔2020〕109号", None]
    assert all(d.clauses > 10 for d in report.documents)
    assert {e.path: e.code for e in report.errors} == {str(p): c for c, p in bad.items()}
    by_code = {e.code: e.message for e in report.errors}
    assert "87.9 KiB" in by_code["too_large"] and "62.5 KiB" in by_code["too_large"]
    assert ".docx" in by_code["unsupported"]


def test_the_same_document_twice_is_a_warning_and_the_later_copy_is_skipped(tmp_path, settings):
    first = copy_sample("000", tmp_path, name="a_000.txt")
    again = copy_sample("000", tmp_path, ENCODINGS["gb18030"], name="b_000_gbk.txt")
    documents, report = ingest_files([tmp_path], settings)
    assert [d.source for d in documents] == [first.name]
    assert len(report.documents) == 1 and report.errors == []
    assert report.warnings == [
        (f"{again.name}: same document as {first.name} (川办函〔2021〕56号, "
         f"doc_id {documents[0].doc_id}); skipped")]


def test_a_parser_failure_on_one_file_does_not_lose_the_batch(tmp_path, settings, monkeypatch):
    # Fault injection (labelled as such): the real parser, made to fail for one file only.
    from assistant.ingest import document as document_module

    real = document_module.build_document

    def flaky(text, source, **kwargs):
        if source.startswith("002"):
            raise ValueError("simulated parser bug")
        return real(text, source, **kwargs)

    monkeypatch.setattr(document_module, "build_document", flaky)
    copy_sample("001", tmp_path)
    broken = copy_sample("002", tmp_path)
    documents, report = ingest_files([tmp_path], settings)
    assert [d.source[:3] for d in documents] == ["001"]
    assert [(e.path, e.code) for e in report.errors] == [(str(broken), "parse_failed")]
    assert "simulated parser bug" in report.errors[0].message


def test_loader_warnings_reach_the_document_and_the_report(tmp_path, settings):
    path = copy_sample("003", tmp_path, lambda text: (text + "\x1a").encode("utf-8"))
    documents, report = ingest_files([path], settings)
    assert "removed 1 stray control character(s)" in documents[0].warnings
    assert "removed 1 stray control character(s)" in report.documents[0].warnings


def test_a_folder_without_supported_files_is_a_warning(tmp_path, settings):
    (tmp_path / "notes.xlsx").write_bytes(b"PK")
    documents, report = ingest_files([tmp_path], settings)
    assert documents == [] and report.errors == []
    assert report.warnings == [f"no supported files found in {tmp_path}"]


def test_progress_is_reported_per_file(tmp_path, settings):
    copy_sample("001", tmp_path)
    (tmp_path / "empty.txt").write_bytes(b"")
    calls = []
    ingest_files([tmp_path], settings, progress=lambda *call: calls.append(call))
    assert calls == [("parse", 1, 2), ("parse", 2, 2)]


# --- other formats and encodings parse like the UTF-8 original ------------------------

def comparable(document) -> dict:
    return document.model_dump(exclude={"source", "encoding", "format"})


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_sample_documents_in_other_encodings_parse_identically(tmp_path, settings, encoding):
    originals, _ = ingest_files(SAMPLES, settings)
    copies = [copy_sample(p.name[:3], tmp_path, ENCODINGS[encoding]) for p in SAMPLES]
    recoded, report = ingest_files(copies, settings)
    assert report.errors == [] and len(recoded) == len(originals) == 5
    for original, copy in zip(originals, recoded):
        assert comparable(copy) == comparable(original)
        assert copy.encoding != original.encoding == "utf-8"


def test_sample_document_as_a_web_page_parses_like_the_text(tmp_path, settings):
    text = sample("003").read_text(encoding="utf-8")
    paragraphs = "".join(f"<p>{line}</p>\n" for line in text.splitlines() if line.strip())
    page = (f'<html><head><meta charset="gbk"><title>t</title><script>var x=1;</script></head>'
            f"<body><nav><a>首页</a><a>政务公开</a></nav><div>{paragraphs}</div>"
            f"<footer>网站标识码 ICP备案 技术支持</footer></body></html>")
    (tmp_path / "003.html").write_bytes(page.encode("gb18030"))
    [from_text], _ = ingest_files([sample("003")], settings)
    [from_html], report = ingest_files([tmp_path / "003.html"], settings)
    assert report.errors == [] and from_html.format == "html"
    assert [(c.label, c.text) for c in from_html.clauses] == [
        (c.label, c.text) for c in from_text.clauses]
    assert (from_html.number, from_html.title) == (from_text.number, from_text.title)


def test_sample_document_as_word_parses_like_the_text(tmp_path, settings):
    docx = pytest.importorskip("docx")
    text = sample("004").read_text(encoding="utf-8")
    word = docx.Document()
    for line in text.splitlines():
        if line.strip():
            word.add_paragraph(line)
    word.save(tmp_path / "004.docx")
    [from_text], _ = ingest_files([sample("004")], settings)
    [from_word], report = ingest_files([tmp_path / "004.docx"], settings)
    assert report.errors == []
    assert comparable(from_word) == comparable(from_text)


# --- into the index -------------------------------------------------------------------

def test_ingest_into_index_upserts_the_good_documents(tmp_path, settings):
    from assistant.stores.faiss.store import IndexStore

    first = ingest_into_index([sample("000"), sample("001")], settings)
    assert first.indexed and first.timings_ms["index"] >= 0
    bad = bad_files(tmp_path / "bad")
    second = ingest_into_index([sample("003"), bad["binary"]], settings)
    assert second.indexed and [e.code for e in second.errors] == ["binary"]
    store = IndexStore.open(settings)
    assert sorted(d.source[:3] for d in store.documents) == ["000", "001", "003"]


def test_a_batch_with_no_good_document_leaves_the_index_untouched(tmp_path, settings):
    ingest_into_index([sample("001")], settings)
    settings = settings.with_(max_file_bytes=64_000)
    before = {p: p.stat().st_mtime_ns for p in settings.paths.index_dir.rglob("*")}
    report = ingest_into_index(list(bad_files(tmp_path / "bad").values()), settings)
    assert not report.indexed and report.documents == [] and len(report.errors) == 7
    assert "index was left unchanged" in report.warnings[-1]
    assert {p: p.stat().st_mtime_ns for p in settings.paths.index_dir.rglob("*")} == before


# --- the command ----------------------------------------------------------------------

def cli(settings: Settings, *args: str) -> list[str]:
    return ["--index-dir", str(settings.paths.index_dir), "--embedder", "hashing", "ingest", *args]


def test_cli_json_report_and_exit_code_zero(tmp_path, settings, capsys):
    folder = tmp_path / "docs"
    copy_sample("002", folder)
    (folder / "empty.txt").write_bytes(b"")
    assert main(cli(settings, str(folder), "--json")) == 0
    report = json.loads(capsys.readouterr().out)
    assert [d["number"] for d in report["documents"]] == ["川卫发〔2017〕65号"]
    assert report["errors"] == [{"path": str(folder / "empty.txt"), "code": "empty",
                                 "message": "the file is empty (0 bytes)"}]
    assert report["indexed"] is True


def test_cli_table_and_exit_code_one_when_every_file_failed(tmp_path, settings, capsys,
                                                            monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")  # rich wraps long cells at the terminal width
    bad = bad_files(tmp_path / "bad")
    del bad["too_large"]  # under the default limit it is a (clause-less) document
    assert main(cli(settings, *map(str, bad.values()))) == 1
    out = capsys.readouterr().out
    assert "Files skipped" in out
    for code in ("empty", "binary", "undecodable", "unsupported", "corrupt", "missing"):
        assert code in out
    assert "index unchanged" in out and not settings.paths.index_dir.exists()


def test_cli_default_is_the_sample_corpus(tmp_path, settings, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    shutil.copytree(CORPUS, tmp_path / "corpus")
    monkeypatch.setenv("ASSISTANT_PATHS__CORPUS_DIR", str(tmp_path / "corpus"))
    assert main(cli(settings)) == 0
    out = capsys.readouterr().out
    for number in ("川办函〔2021〕56号", "开州府办发〔2020〕109号", "征求意见稿", "失效"):
        assert number in out
    assert "5 document(s)" in out
