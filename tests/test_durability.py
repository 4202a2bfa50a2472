"""Durability (#11): a file or run folder renamed into place has its bytes on the disk first, and the rename is
flushed after, so a power cut cannot leave a renamed but empty results.json. The disk itself cannot be cut in a
test: these record the order of fsync and rename calls instead."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rmstudy.contract import jsonio
from rmstudy.contract.jsonio import write_json
from rmstudy.run import rundir
from rmstudy.run.rundir import RunFolder


def _what(fd: int) -> str:
    return os.readlink(f"/proc/self/fd/{fd}")


@pytest.fixture
def events(monkeypatch):
    """Every fsync (the path it flushed, and whether the file then held bytes) and every rename, in order."""
    log: list[tuple] = []
    real_fsync, real_replace, real_rename = os.fsync, os.replace, os.rename

    def fsync(fd):
        path = _what(fd)
        log.append(("fsync", path, os.path.isdir(path) or os.fstat(fd).st_size > 0))
        return real_fsync(fd)

    def replace(a, b, *args, **kw):
        log.append(("rename", os.path.abspath(a), os.path.abspath(b)))
        return real_replace(a, b, *args, **kw)

    def rename(a, b, *args, **kw):
        log.append(("rename", os.path.abspath(a), os.path.abspath(b)))
        return real_rename(a, b, *args, **kw)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "rename", rename)
    return log


def test_write_json_syncs_the_file_before_the_rename_and_the_folder_after(tmp_path, events):
    target = (tmp_path / "results.json").resolve()
    write_json({"a": 1, "b": [1.5, None]}, target)
    renames = [i for i, e in enumerate(events) if e[0] == "rename"]
    assert len(renames) == 1
    i = renames[0]
    tmp = events[i][1]
    assert events[i][2] == str(target) and tmp != str(target)
    file_syncs = [j for j, e in enumerate(events) if e[0] == "fsync" and e[1] == tmp]
    assert file_syncs and max(file_syncs) < i, events      # the bytes before the name
    assert all(events[j][2] for j in file_syncs), "the temporary file was empty when it was flushed"
    dir_syncs = [j for j, e in enumerate(events) if e[0] == "fsync" and e[1] == str(tmp_path.resolve())]
    assert dir_syncs and min(dir_syncs) > i, events        # the name after the rename
    assert target.read_text(encoding="utf-8").endswith("}\n")


def test_write_json_fails_and_leaves_the_old_file_when_fsync_fails(tmp_path, monkeypatch):
    target = tmp_path / "results.json"
    target.write_text('{"old": true}\n', encoding="utf-8")

    def broken(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(OSError):
        write_json({"new": True}, target)
    assert target.read_text(encoding="utf-8") == '{"old": true}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]    # no temporary file left


def test_fsync_dir_skips_a_folder_that_cannot_be_synced(tmp_path, monkeypatch):
    calls = []

    def refuses(fd):
        calls.append(fd)
        raise OSError(22, "Invalid argument")

    monkeypatch.setattr(os, "fsync", refuses)
    jsonio.fsync_dir(tmp_path)                 # no error: some file systems cannot sync a folder
    jsonio.fsync_dir(tmp_path / "missing")     # nor for a folder that is gone
    assert len(calls) == 1


@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "two-renames"])
@pytest.mark.parametrize("previous", [True, False], ids=["replaces-a-run", "first-run"])
def test_run_folder_swap_syncs_every_file_before_and_the_parent_after(tmp_path, events, monkeypatch, exchange,
                                                                        previous):
    out = tmp_path / "out"
    if previous:
        out.mkdir()
        (out / "results.json").write_text('{"run": "old"}\n', encoding="utf-8")
    if not exchange:
        monkeypatch.setattr(rundir, "_exchange", lambda a, b: False)    # a file system without RENAME_EXCHANGE
    real_exchange = rundir._exchange
    if exchange:
        def logged(a, b):
            done = real_exchange(a, b)
            events.append(("rename", os.path.abspath(a), os.path.abspath(b)))
            return done
        monkeypatch.setattr(rundir, "_exchange", logged)
    with RunFolder(out) as rf:
        build = rf.build.resolve()
        (build / "records").mkdir()
        (build / "records" / "01.json").write_text("{}\n", encoding="utf-8")
        (build / "results.json").write_text('{"run": "new"}\n', encoding="utf-8")
        (build / "empty.txt").write_text("", encoding="utf-8")
        del events[:]
        rf.commit()
        log = list(events)
    assert (out / "results.json").read_text(encoding="utf-8") == '{"run": "new"}\n'
    moved_in = max(i for i, e in enumerate(log) if e[0] == "rename" and e[2] == str(out.resolve()))
    synced = {e[1]: i for i, e in enumerate(log) if e[0] == "fsync"}
    for f in ("results.json", "records/01.json", "empty.txt", "records", "."):
        p = os.path.normpath(build / f)
        assert p in synced and synced[p] < moved_in, (f, log)
    # a folder is flushed after the files in it (its entries name them)
    assert synced[str(build / "records" / "01.json")] < synced[str(build / "records")] < synced[str(build)]
    parent = str(tmp_path.resolve())
    assert any(e[0] == "fsync" and e[1] == parent and i > moved_in for i, e in enumerate(log)), log


def test_run_folder_swap_is_abandoned_when_a_file_cannot_be_synced(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").write_text('{"run": "old"}\n', encoding="utf-8")
    real_fsync = os.fsync

    def full(fd):
        if _what(fd).endswith("results.json"):
            raise OSError(28, "No space left on device")
        return real_fsync(fd)

    with pytest.raises(rundir.OutputError, match="disk is full"):
        with RunFolder(out) as rf:
            (rf.build / "results.json").write_text('{"run": "new"}\n', encoding="utf-8")
            monkeypatch.setattr(os, "fsync", full)
            rf.commit()
    assert (out / "results.json").read_text(encoding="utf-8") == '{"run": "old"}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.rmstudy-lock", "out"]
    assert Path(out).is_dir()


@pytest.mark.parametrize("sort_keys", [False, True])
def test_rows_per_line_writes_the_same_json_a_row_a_line(tmp_path, sort_keys):
    """write_json's table layout (validation.json: one finding per line, ten times faster to encode) holds the
    same JSON value as the indented layout, and everything that is not a table is laid out as before."""
    import json

    from rmstudy.contract.jsonio import write_json

    rows = [{"row": i, "message": f"naïve \"quote\" ,\n{i}", "column": None, "ok": i % 2 == 0, "x": i / 7,
             "tags": ["a", {"b": 1}]} for i in range(9000)]
    obj = {"cohort": "c", "summary": {"n": 3, "nested": {"k": [1, 2]}}, "exclusions": rows, "empty": [],
           "warnings": [{"w": 1}], "ledger": {"participants.csv": {"rows": 9}}}
    plain = write_json(obj, tmp_path / "plain.json", sort_keys=sort_keys)
    fast = write_json(obj, tmp_path / "fast.json", sort_keys=sort_keys, rows_per_line=True)
    assert json.loads(fast.read_text(encoding="utf-8")) == json.loads(plain.read_text(encoding="utf-8")) == obj
    lines = fast.read_text(encoding="utf-8").splitlines()
    assert sum(line.startswith('    {"') for line in lines) == len(rows) + 1          # + the one warning
    assert "naïve" in fast.read_text(encoding="utf-8")                                 # non-ASCII kept as it is
    # the parts that are not tables are laid out exactly as the indented writer lays them out
    summary = json.dumps({"summary": obj["summary"]}, indent=2, ensure_ascii=False, sort_keys=sort_keys)
    assert "\n".join(summary.splitlines()[1:-1]) in fast.read_text(encoding="utf-8")
    assert fast.read_bytes().endswith(b"}\n")
    assert write_json({}, tmp_path / "e.json", rows_per_line=True).read_text() == "{}\n"
