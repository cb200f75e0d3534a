"""The ASR benchmark reads the real recording's reference transcript from the shared folder's
README, beside the audio, instead of keeping a copy in this repository."""

from __future__ import annotations

from eval.bench.bench_asr import build_clips, jfk_reference


def test_the_reference_is_read_from_the_shared_readme(tmp_path):
    (tmp_path / "README.md").write_text(
        "| file | what |\n|---|---|\n| `audio/jfk.flac` | 3 s of speech. Reference transcript: \"one two three.\" | x |\n")
    assert jfk_reference(tmp_path) == "one two three."


def test_without_a_reference_the_recording_is_left_out_with_a_reason(tmp_path):
    (tmp_path / "audio").mkdir()
    (tmp_path / "audio" / "jfk.flac").write_bytes(b"not read")
    (tmp_path / "README.md").write_text("| `audio/jfk.flac` | no transcript given here |\n")
    clips, notes = build_clips(tmp_path / "work", voices=[], shared=tmp_path)
    assert clips == [] and "no reference transcript" in notes[0]
