"""The trained grader with the real MiniLM and the shipped artefact, its command line, its
reproducibility, and the optional LLM judge against a local stub server.

Every example sentence here was written for this file; none is in the seed set (checked).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from server.grading.artefact import MODEL_DIR, Artefact
from server.grading.base import GradeContext
from server.grading.data_sources import load_seed

pytestmark = pytest.mark.slow

FEAR = GradeContext(patient_turn="My father had a heart attack at fifty-two. I keep thinking about it.",
                    patient_emotion="fear", opportunity_id="dad", opportunity_kind="cue")
EXPLICIT_FEAR = GradeContext(patient_turn="I'm really frightened that this pain means something serious.",
                             patient_emotion="fear", opportunity_id="fear", opportunity_kind="explicit")
NO_OPP = GradeContext(patient_turn="It started about three weeks ago, mostly in the evenings.", patient_emotion="fear")

ECCS_EXAMPLES = [
    ("Let's just get your weight on the scales.", 0),  # no token first (with one it is 1: data/real/README.md)
    ("Mm, okay. And are you on any tablets at the moment?", 1),
    ("How old was he when that happened?", 2),
    ("It sounds like that has left you feeling really frightened.", 3),
    ("That sounds frightening. What goes through your mind when you think about it?", 4),
    ("Of course you're frightened, given what happened to your father.", 5),
    ("If my dad had died that young, I'd be scared too, sitting where you are.", 6),
]
NURSE_EXAMPLES = [
    ("You seem really frustrated with all of this.", "name"),
    ("It helps me understand why the evenings have been so hard for you.", "understand"),
    ("You've been looking after everyone else through all of this, and that takes real strength.", "respect"),
    ("Whatever the tests show, I'll be with you and we'll plan the next steps together.", "support"),
    ("Can you tell me a bit more about what's been on your mind?", "explore"),
]
FLAG_EXAMPLES = [
    ("Oh dear, I feel so sorry for you.", "sympathy_only", FEAR),
    ("I know exactly what you're going through, believe me.", "false_understanding", FEAR),
    ("Don't worry, I'm sure it'll turn out to be nothing.", "premature_reassurance", FEAR),
    ("You're getting worked up over nothing, just calm down.", "dismissive", FEAR),
    ("Okay. And do you smoke at all?", "topic_switch", EXPLICIT_FEAR),
    ("Your troponin was negative, so ACS is unlikely and we'll titrate the beta blocker.", "jargon", NO_OPP),
    ("You should cut out the takeaways and start walking every day.", "advice_before_exploring", NO_OPP),
    ("Men your age never like talking about feelings, so let's keep this short.", "assumption_or_stereotype", NO_OPP),
]


@pytest.fixture(scope="module")
def grader():
    from server.grading.trained import TrainedGrader
    return TrainedGrader()


def test_examples_are_not_in_the_seed_set():
    seen = {" ".join(r.response.lower().split()) for r in load_seed()}
    ours = [t for t, _ in ECCS_EXAMPLES] + [t for t, _ in NURSE_EXAMPLES] + [t for t, _, _ in FLAG_EXAMPLES]
    assert not [t for t in ours if " ".join(t.lower().split()) in seen]


def test_artefact_is_small_versioned_and_packaged(grader):
    size = sum(p.stat().st_size for p in MODEL_DIR.iterdir() if p.is_file())
    assert size < 100 * 1024 * 1024  # issue 14: at most 100 MB (the fine-tuned layers are float16)
    assert grader.version.startswith("trained-2.0+") and len(grader.version.split("+")[1]) == 8
    g = grader.grade("What brings you in today?", NO_OPP)
    assert g.grader_version == grader.version
    import tomllib
    from server.config import REPO_ROOT
    pkg = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["server"]
    assert "**/*.npz" in pkg and "**/*.json" in pkg


def test_version_hashes_content_not_file_dates(tmp_path):
    """Written again, at another time and place, the shipped arrays and meta keep their version;
    a change to one number or one note gives another."""
    from server.grading.artefact import save

    shipped = Artefact.load()
    out = tmp_path / "rewritten"
    written = save(shipped.arrays, shipped.meta, out)  # a new .npz: new zip entry dates
    for f in out.iterdir():
        os.utime(f, (0, 0))
    assert written == Artefact.load(out).version == shipped.version
    name = next(n for n in sorted(shipped.arrays) if shipped.arrays[n].dtype.kind == "f")
    nudged = dict(shipped.arrays, **{name: shipped.arrays[name] + np.ones(1, shipped.arrays[name].dtype)})
    assert Artefact(nudged, shipped.meta).version != shipped.version
    renoted = shipped.meta.model_copy(update={"notes": [*shipped.meta.notes, "one more note"]})
    assert Artefact(shipped.arrays, renoted).version != shipped.version


@pytest.mark.parametrize("text,level", ECCS_EXAMPLES)
def test_eccs_levels(grader, text, level):
    assert grader.grade(text, FEAR).eccs == level


@pytest.mark.parametrize("text,nurse", NURSE_EXAMPLES)
def test_nurse_types(grader, text, nurse):
    assert nurse in grader.grade(text, NO_OPP).nurse


@pytest.mark.parametrize("text,flag,ctx", FLAG_EXAMPLES)
def test_flags(grader, text, flag, ctx):
    assert flag in grader.grade(text, ctx).flags


def test_interrupted_comes_from_the_voice_pipeline(grader):
    ctx = FEAR.model_copy(update={"interrupted": True})
    assert "interrupted" in grader.grade("Sorry, can I just stop you there?", ctx).flags
    assert "interrupted" not in grader.grade("Sorry, can I just stop you there?", FEAR).flags


@pytest.mark.parametrize("text", ["I feel so sorry for you.", "I feel so sorry for you, that's terrible.",
                                  "Oh you poor thing, I'm so sorry for you.", "I really do feel sorry for you, you know."])
def test_pity_never_above_two(grader, text):
    for ctx in (FEAR, EXPLICIT_FEAR):
        assert grader.grade(text, ctx).eccs <= 2


def test_topic_switch_after_explicit_fear(grader):
    g = grader.grade("Right. Any allergies to medicines?", EXPLICIT_FEAR)
    assert g.eccs in (0, 1) and "topic_switch" in g.flags and g.space == "reduces"
    assert "\"" in g.feedback  # a concrete alternative wording


def test_wrong_emotion_is_inaccurate(grader):
    wrong = grader.grade("You sound angry about all of this.", FEAR)
    right = grader.grade("You sound scared about all of this.", FEAR)
    assert (wrong.named_emotion, wrong.empathic_accuracy) == ("anger", False)
    assert (right.named_emotion, right.empathic_accuracy) == ("fear", True)
    assert "did not match" in wrong.feedback


def test_no_eccs_or_topic_switch_without_an_opportunity(grader):
    g = grader.grade("Do you get any heartburn after meals?", NO_OPP)
    assert g.eccs is None and "topic_switch" not in g.flags and g.question_type == "closed"


def test_dismissal_is_zero_and_reduces_space(grader):
    g = grader.grade("You're getting worked up over nothing, just calm down.", EXPLICIT_FEAR)
    assert g.eccs == 0 and g.space == "reduces" and "dismissive" in g.flags


# ------------------------------------------------------------------ command line

def test_grade_command_round_trip(tmp_path):
    from server.cli import main as bedside

    rows = [{"context": FEAR.patient_turn, "response": "That sounds frightening. What worries you most?", "emotion": "fear", "id": "a"},
            {"context": "It started on Tuesday.", "response": "Do you smoke?", "opportunity": "none", "id": "b"},
            {"context": "I'm so angry nobody called me back.", "response": "You sound angry, and no wonder."}]
    src, dst = tmp_path / "pairs.jsonl", tmp_path / "graded.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert bedside(["grade", "--in", str(src), "--out", str(dst), "--grader", "trained"]) == 0
    out = [json.loads(line) for line in dst.read_text().splitlines()]
    assert [o["response"] for o in out] == [r["response"] for r in rows]
    assert out[0]["id"] == "a" and out[0]["eccs"] >= 3 and out[0]["grader_version"].startswith("trained-")
    assert out[1]["eccs"] is None and out[1]["question_type"] == "closed"
    assert {"nurse", "flags", "epitome", "space", "feedback", "empathic_accuracy"} <= set(out[2])
    again = tmp_path / "again.jsonl"
    assert bedside(["grade", "--in", str(src), "--out", str(again), "--grader", "trained"]) == 0
    assert again.read_text() == dst.read_text()  # stable
    rules = tmp_path / "rules.jsonl"
    assert bedside(["grade", "--in", str(src), "--out", str(rules), "--grader", "rules"]) == 0
    assert json.loads(rules.read_text().splitlines()[0])["grader_version"] == "rules-1.0"


def test_batched_grading_matches_one_at_a_time(grader):
    from server.grading.data_sources import load_seed

    rows = load_seed("test")[:40]
    pairs = [(r.response, r.context_for_grading()) for r in rows]
    batched = grader.grade_many(pairs)
    single = [grader.grade(text, ctx) for text, ctx in pairs]
    # the pair model grades each pair alone either way: its fields are identical
    assert [(g.eccs, g.nurse, g.flags, g.space) for g in batched] == [(g.eccs, g.nurse, g.flags, g.space) for g in single]
    # the EPITOME heads read a padded batch encoding, equal to a single one only to float rounding
    # (checked here), so a reply on a decision boundary may fall either side: a few in 40 at most.
    # How many depends on which path encoded the patient turns first (the session-wide embedder's
    # cache: 0 alone, 4 after the whole suite); a broken batch path changes most of them
    texts = [text for text, _ in pairs]
    whole_b, _, _, toks_b = grader.encoder.encode_replies(texts)
    for i in (0, 17, 39):
        whole_1, _, _, toks_1 = grader.encoder.encode_replies([texts[i]])
        assert np.abs(whole_b[i] - whole_1[0]).max() < 1e-4 and np.abs(toks_b[i] - toks_1[0]).max() < 1e-3
    assert sum(a.epitome != b.epitome for a, b in zip(batched, single)) <= 5


def test_packed_pass_gives_each_text_its_own_embedding(grader):
    """The cold path packs reply and patient turn into one unpadded pass; each must come out as
    if encoded alone, or cold grades would differ from in-session ones."""
    enc = grader.encoder
    reply = "That sounds frightening. What goes through your mind when you think about it? Take your time."
    patient = "My father had a heart attack at fifty-two, and ever since the scan I keep thinking about it."
    (r_packed, r_max_packed, r_sents_packed, r_toks_packed), (p_packed, _, _, _) = enc.encode_packed([reply, patient])
    r_alone, r_max_alone, r_sents_alone, r_toks_alone = enc.encode_replies([reply])
    assert np.abs(r_packed - r_alone[0]).max() < 1e-4
    assert np.abs(r_max_packed - r_max_alone[0]).max() < 1e-4
    assert r_sents_packed.shape == (3, 384)  # one layer-4 vector per sentence
    assert np.abs(r_sents_packed - r_sents_alone[0]).max() < 1e-4
    # token states: one row per token of the reply alone, [CLS] and [SEP] included
    assert r_toks_packed.shape == r_toks_alone[0].shape == (len(enc.tokenizer(reply)["input_ids"]), 384)
    assert np.abs(r_toks_packed - r_toks_alone[0]).max() < 1e-3
    assert np.abs(p_packed - enc.encode([patient])[0]).max() < 1e-4
    assert float(r_packed @ p_packed) < 0.99  # the two texts did not see each other


def test_offline_passes_use_their_threads_and_hand_the_setting_back(grader, monkeypatch):
    """The cold packed pass and batched file grading run on `offline_threads`; a session's
    one-thread setting must be back in place after them, or the live speech work would compete."""
    import torch

    seen = []
    real = torch.set_num_threads
    monkeypatch.setattr(torch, "set_num_threads", lambda n: (seen.append(n), real(n)))
    before = torch.get_num_threads()
    real(1)
    try:
        grader.encoder.encode_packed(["How are you holding up?", "I haven't slept since the scan."])
        grader.grade_many([("What worries you most?", GradeContext(patient_turn="I keep thinking about my dad."))])
        assert torch.get_num_threads() == 1
        assert seen and seen[0] == grader.encoder.offline_threads == 2 and seen.count(2) == seen.count(1)
    finally:
        real(before)


def test_cold_grades_equal_in_session_grades(grader):
    rows = load_seed("test")[:40]
    def fields(g):
        return (g.eccs, g.nurse, g.flags, g.epitome, g.space, g.question_type)
    cold, warm = [], []
    for r in rows:
        grader._replies.clear()
        grader.encoder._cache.clear()
        cold.append(fields(grader.grade(r.response, r.context_for_grading())))
        grader._replies.clear()
        grader.prefetch(r.context)
        warm.append(fields(grader.grade(r.response, r.context_for_grading())))
    # the pair model reads the same bottom states either way: its fields are identical
    assert [c[:3] + c[4:] for c in cold] == [w[:3] + w[4:] for w in warm]
    # the EPITOME heads read the packed pass, equal to two single passes only to float rounding
    # (CPUs differ in their last bits; test_packed_pass_gives_each_text_its_own_embedding checks
    # the numbers), so a reply on a decision boundary may fall either side: a few in 40 at most
    # (3 or 4 seen on this machine, run to run)
    assert sum(c[3] != w[3] for c, w in zip(cold, warm)) <= 5


def test_grade_command_names_a_bad_line_and_keeps_the_rows_before_it(tmp_path, capsys):
    from server.cli import main as bedside

    src, dst = tmp_path / "pairs.jsonl", tmp_path / "graded.jsonl"
    good = json.dumps({"context": "I'm scared.", "response": "What scares you most?"})
    src.write_text(good + "\n" + good + "\n" + '{"context": "no response here"}\n')
    assert bedside(["grade", "--in", str(src), "--out", str(dst), "--grader", "trained"]) == 1
    err = capsys.readouterr().err
    assert "line 3" in err and "response" in err
    assert len(dst.read_text().splitlines()) == 2


# ------------------------------------------------------------------ reproducibility

def test_retraining_with_the_same_seed_reproduces_the_eccs_head(tmp_path):
    from server.grading.train import train

    a, meta, version = train(seed=0, use_shared=False, out=tmp_path / "m1", cache_dir=tmp_path / "cache", pair=False)
    b, meta_b, _ = train(seed=0, use_shared=False, out=None, cache_dir=tmp_path / "cache", pair=False)
    assert np.array_equal(a["eccs.W"], b["eccs.W"]) and np.array_equal(a["eccs.b"], b["eccs.b"])
    assert meta.heads["eccs"].trained_on == "seed train split"
    # the files give back the version training reported, and the second run, written nowhere,
    # has that version too: every head and the meta are reproduced, not only the ECCS head
    assert Artefact.load(tmp_path / "m1").version == version == Artefact(b, meta_b).version
    # The ECCS head reads no shared data, so retraining reproduces the shipped head. Its weights
    # match only up to float noise (weakly regularised lbfgs on another numpy/BLAS/torch build
    # lands a few hundredths away), so the check is on what matters: the levels it gives.
    shipped = Artefact.load()
    assert shipped.arrays["eccs.W"].shape == a["eccs.W"].shape
    swapped = tmp_path / "swapped"
    shutil.copytree(MODEL_DIR, swapped)
    arrays = dict(shipped.arrays, **{"eccs.W": a["eccs.W"], "eccs.b": a["eccs.b"]})
    np.savez(swapped / "grader.npz", **arrays)
    from server.grading.trained import TrainedGrader

    g_shipped = TrainedGrader()
    g_retrained = TrainedGrader(swapped, encoder=g_shipped.encoder)
    g_shipped.pair = g_retrained.pair = None  # compare the linear ECCS heads themselves
    rows = [r for r in load_seed("test") if r.eccs is not None]
    levels = [(g_shipped.grade(r.response, r.context_for_grading()).eccs,
               g_retrained.grade(r.response, r.context_for_grading()).eccs) for r in rows]
    agree = np.mean([x == y for x, y in levels])
    assert agree >= 0.98, f"retrained ECCS head agrees with the shipped one on only {agree:.1%} of test opportunities"


def _write_small_epitome(folder, rows):
    """An EPITOME-dev-shaped folder from seed rows (their own EPITOME labels; the first sentence
    as the rationale), so the EPITOME-dev path of training runs without the shared data."""
    import csv

    from server.grading.data_sources import EPITOME_FILES, MECHANISMS
    from server.grading.features import sentences

    folder.mkdir(parents=True)
    for mech in MECHANISMS:
        with open(folder / EPITOME_FILES[mech], "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["sp_id", "rp_id", "seeker_post", "response_post", "level", "rationales"])
            for r in rows:
                level = getattr(r.epitome, mech)
                w.writerow([f"p{r.context[:12]}", r.id, r.context, r.response, level, sentences(r.response)[0] + "|" if level else ""])


def test_run_time_epitome_heads_equal_the_trained_ones(tmp_path):
    """`epitome_heads.epitome_probabilities` (run time, from the artefact's arrays) must give the numbers
    `epitome_train.EpitomeModel.proba` gave in training, for every part of every EPITOME-dev head, the
    layer-4 sentence-embedding part of interpretations included."""
    from server.grading.data_sources import MECHANISMS, load_epitome
    from server.grading.embedding_cache import EmbeddingCache
    from server.grading.epitome_train import EpitomeBlock, fit_epitome
    from server.grading.train import train
    from server.grading.trained import TrainedGrader

    rows = load_seed("train")
    small = [r for r in rows if r.opportunity != "none"][:150]
    for m in MECHANISMS:
        assert {getattr(r.epitome, m) for r in small} == {0, 1, 2}, m
    _write_small_epitome(tmp_path / "shared" / "epitome-dev", small)
    cache = tmp_path / "cache"
    _, meta, version = train(seed=0, shared=tmp_path / "shared", out=tmp_path / "model", cache_dir=cache, pair=False)
    assert meta.data["epitome_dev"] == len(small)
    runtime = TrainedGrader(tmp_path / "model", encoder=None)
    assert "epitome_interpretations.msent.W" in runtime.artefact.arrays
    assert "epitome_emotional_reactions.msent.W" not in runtime.artefact.arrays
    assert "epitome_interpretations.pool.W" in runtime.artefact.arrays
    assert "epitome_explorations.pool.W" not in runtime.artefact.arrays

    pairs = load_epitome(tmp_path / "shared")
    block = EpitomeBlock(pairs, EmbeddingCache(cache))
    fitted = fit_epitome(block, np.arange(len(pairs)), seed=0)
    probe = [r for r in rows if r not in small][:12]
    replies = [r.response for r in probe]
    from server.grading.features import relation_vector
    ctxs = [r.context_for_grading() for r in probe]
    got = [runtime.probabilities(r.response, c) for r, c in zip(probe, ctxs)]
    dense = np.stack([np.concatenate([_dense_of(runtime, r.response, c), relation_vector(r.response, r.context)])
                      for r, c in zip(probe, ctxs)])
    svecs = [runtime._encode(r.response, r.context)[3] for r in probe]
    toks = [runtime._encode(r.response, r.context)[4] for r in probe]
    for m in MECHANISMS:
        want = fitted.proba(m, replies, dense, svecs, toks)
        np.testing.assert_allclose(np.stack([g[f"epitome_{m}"] for g in got]), want, atol=1e-4)
        assert np.ptp(want[:, 0]) > 0.05  # the probabilities vary, so equality means something


def _dense_of(grader, text, ctx):
    from server.grading.features import dense_block, rule_vector

    whole, maxed, context, _, _ = grader._encode(text, ctx.patient_turn)
    return np.concatenate([dense_block(whole, maxed, context), rule_vector(text, ctx)])


# ------------------------------------------------------------------ judge backend

class _Stub(BaseHTTPRequestHandler):
    reply: dict = {}
    delay = 0.0
    seen: list = []

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append((self.path, self.headers.get("Authorization"), body))
        time.sleep(type(self).delay)
        content = type(self).reply if isinstance(type(self).reply, str) else json.dumps(type(self).reply)
        data = json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def stub():
    _Stub.reply, _Stub.delay, _Stub.seen = {}, 0.0, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_judge_grades_with_the_same_schema(stub, grader):
    from server.grading.judge import JudgeGrader

    _Stub.reply = {"eccs": 6, "nurse": ["explore"], "flags": ["dismissive"], "epitome": {"emotional_reactions": 2},
                   "space": "provides", "question_type": "open", "named_emotion": "fear"}
    judge = JudgeGrader(stub, "stub-model", "secret", grader, timeout=5)
    g = judge.grade("You sound scared. What worries you most?", FEAR)
    assert g.grader_version == "judge-1.0+stub-model"
    # the manuals' constraints apply to the judge too: dismissive means ECCS 0, and naming means NURSE 'name'
    assert g.eccs == 0 and g.space == "reduces" and "name" in g.nurse and g.empathic_accuracy is True and g.feedback
    path, auth, body = _Stub.seen[0]
    assert path == "/v1/chat/completions" and auth == "Bearer secret"
    assert body["model"] == "stub-model" and body["response_format"] == {"type": "json_object"}
    assert "My father had a heart attack" in body["messages"][1]["content"]


def test_judge_falls_back_on_timeout_connection_error_and_bad_json(stub, grader, caplog):
    from server.grading.judge import JudgeGrader

    _Stub.reply, _Stub.delay = {"eccs": 4}, 2.0
    slow = JudgeGrader(stub, "stub-model", None, grader, timeout=0.3)
    g = slow.grade("That sounds frightening. What worries you most?", FEAR)
    assert g.grader_version == grader.version and "Timeout" in slow.last_error
    assert "judge grader failed" in caplog.text

    dead = JudgeGrader("http://127.0.0.1:9/v1", "stub-model", None, grader, timeout=1)
    assert dead.grade("Any allergies?", NO_OPP).grader_version == grader.version and "Connect" in dead.last_error

    _Stub.reply, _Stub.delay = "not json at all", 0.0
    bad = JudgeGrader(stub, "stub-model", None, grader, timeout=5)
    assert bad.grade("Any allergies?", NO_OPP).grader_version == grader.version and bad.last_error


def test_factory_honours_settings(monkeypatch):
    from server.config import Settings
    from server.grading.factory import build_grader
    from server.grading.judge import JudgeGrader
    from server.grading.rules import RuleGrader
    from server.grading.trained import TrainedGrader

    assert isinstance(build_grader(Settings(grader="rules")), RuleGrader)
    assert isinstance(build_grader(Settings(grader="trained")), TrainedGrader)
    assert isinstance(build_grader(Settings(grader="judge")), TrainedGrader)  # no endpoint configured
    j = build_grader(Settings(grader="judge", openai_base_url="http://127.0.0.1:9/v1", openai_model="m"))
    assert isinstance(j, JudgeGrader) and isinstance(j.fallback, TrainedGrader)
    import server.grading.artefact as art
    monkeypatch.setattr(art, "MODEL_DIR", art.MODEL_DIR.parent / "no-such-model")
    assert isinstance(build_grader(Settings(grader="trained")), RuleGrader)


def test_pair_model_training_is_reproducible_and_loads(tmp_path):
    """The pair model's fine-tuning is seeded: the same rows and seed give the same weights, and
    the run-time model built from the stored arrays gives a probability for every head."""
    from server.grading.base import ALL_NURSE, TEXT_FLAGS
    from server.grading.encoder import TextEncoder
    from server.grading.pair_model import PairModel
    from server.grading.pair_train import PairTrainer

    rows = load_seed("train")[:90]
    enc = TextEncoder()
    a, meta = PairTrainer(enc.embedder, TEXT_FLAGS, seed=3, report=lambda _: None).fit(rows, epochs=1)
    b, _ = PairTrainer(enc.embedder, TEXT_FLAGS, seed=3, report=lambda _: None).fit(rows, epochs=1)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    # weight matrices as int8 changes from MiniLM with float16 scales; the rest float16
    assert all(v.dtype == (np.int8 if k.endswith(".q") else np.float16) for k, v in a.items())
    assert any(k.endswith(".W.q") for k in a)
    assert set(meta["thresholds"]) == {f"nurse_{t}" for t in ALL_NURSE} | {f"flag_{f}" for f in TEXT_FLAGS}
    q = PairModel(a, TEXT_FLAGS, ALL_NURSE, enc.embedder).predict(["I'm scared."], ["That sounds frightening."])[0]
    assert q["eccs"].shape == (7,) and abs(q["eccs"].sum() - 1) < 1e-5
    assert q["flags"].shape == (len(TEXT_FLAGS),) and q["space"].shape == (3,)


def test_pair_model_bottom_is_the_reply_pass_and_prefetch_changes_nothing():
    """Each text's frozen bottom is what the reply pass holds at layer FROZEN (one MiniLM, two
    readers), and a patient turn prefetched when it was said grades exactly as a cold one."""
    from server.grading.pair_model import FROZEN
    from server.grading.encoder import SENT_LAYER, TextEncoder
    from server.grading.trained import TrainedGrader

    g = TrainedGrader()
    reply = "That sounds frightening. What worries you most?"
    assert SENT_LAYER == FROZEN
    own = g.pair.bottom.replies([reply])[0]
    tokens = TextEncoder(g.encoder.embedder).encode_replies([reply])[3][0]
    assert own.shape == tokens.shape and float(np.abs(own - tokens).max()) < 1e-4
    patient = "I keep thinking it might be something serious."
    cold = g.pair.predict([patient], [reply])[0]["eccs"]
    g.pair._patients.clear()
    g.prefetch(patient)
    g._await_prefetch(patient)
    assert patient in g.pair._patients
    assert np.allclose(g.pair.predict([patient], [reply])[0]["eccs"], cold, atol=1e-6)


def test_prefetch_returns_before_the_encoding_and_the_grade_waits_for_it(grader, monkeypatch):
    """The turn that says the patient's words is not held up by encoding them; the next grade
    waits for that encoding instead of doing it a second time."""
    import threading

    release, calls, real = threading.Event(), [], grader._encode_patient

    def slow(text):
        calls.append(text)
        assert release.wait(30)
        real(text)

    monkeypatch.setattr(grader, "_encode_patient", slow)
    patient = "I haven't slept properly since my scan, to be honest."
    grader._replies.clear()
    grader.encoder._cache.pop(patient, None)
    grader.pair._patients.pop(patient, None)
    grader.prefetch(patient)  # returns while the encoding is still blocked
    assert patient not in grader.encoder._cache
    release.set()
    g = grader.grade("What's been keeping you awake?", GradeContext(patient_turn=patient, opportunity_id="o", emotion="fear"))
    assert calls == [patient] and patient in grader.encoder._cache and patient in grader.pair._patients
    assert g.eccs is not None


def test_pair_model_layers_equal_minilm_before_fine_tuning():
    """The hand-written BERT layer reproduces MiniLM's own layers (so the frozen bottom of the
    pair model is MiniLM, whatever the transformers version's calling conventions)."""
    import torch

    from server.grading.encoder import TextEncoder
    from server.grading.pair_model import bert_layer, layer_params

    m = TextEncoder().embedder.model
    enc = TextEncoder().tokenizer(["I can't sleep."], ["That sounds exhausting. How long has it been?"], return_tensors="pt")
    with torch.inference_mode():
        want = m(**enc).last_hidden_state
        h = m.embeddings(input_ids=enc["input_ids"], token_type_ids=enc["token_type_ids"])
        add = (1.0 - enc["attention_mask"][:, None, None, :].float()) * -1e9
        for layer in m.encoder.layer:
            h = bert_layer(torch, h, add, layer_params(layer))
    assert float((h - want).abs().max()) < 1e-4


def test_pair_layers_round_trip_through_int8_deltas():
    """Packing the fine-tuned layers as int8 changes from MiniLM loses little: a weight comes back
    within about half a quantisation step (the scale itself is float16)."""
    from server.grading.encoder import TextEncoder
    from server.grading.pair_model import FrozenBottom, pack_top_layers, unpack_top_layers

    base = [{k: v.numpy() for k, v in layer.items()} for layer in FrozenBottom(TextEncoder().embedder).minilm_top]
    rng = np.random.RandomState(0)
    tuned = [{k: v + rng.normal(0, 0.01, v.shape).astype(np.float32) for k, v in layer.items()} for layer in base]
    back = unpack_top_layers(pack_top_layers(tuned, base), base)
    for t, b, ref in zip(tuned, back, base):
        for k in t:
            step = np.abs(t[k] - ref[k]).max(axis=0) / 127 if k.endswith(".W") else np.abs(t[k]) * 1e-3
            assert np.all(np.abs(t[k] - b[k]) <= step * 0.6 + 1e-6), k  # half a step, plus the float16 scale


def test_cutpoints_spread_a_model_that_leans_to_the_middle_level():
    from server.grading.pair_model import decide_level
    from server.grading.pair_train import ECCS_CUTS

    leaning = np.array([0.02, 0.05, 0.45, 0.40, 0.06, 0.02, 0.0])  # expected level 2.5: mostly 2 or 3
    assert decide_level(leaning, "argmax") == 2 and decide_level(leaning, "expected") == 2
    assert decide_level(leaning, "cutpoints", ECCS_CUTS) == 3
    sure_two = np.array([0.0, 0.05, 0.9, 0.05, 0.0, 0.0, 0.0])
    assert decide_level(sure_two, "cutpoints", ECCS_CUTS) == 2
    # every level stays reachable, and the cuts never go past the top level
    ends = [np.eye(7)[k] for k in range(7)]
    assert [int(decide_level(e, "cutpoints", ECCS_CUTS)) for e in ends] == list(range(7))


def test_the_layer_cache_is_not_reused_across_sentence_splitters(tmp_path, monkeypatch):
    """Cached sentence vectors are cut by the sentence splitter of their day; a changed splitter
    (as when server.core.text replaced the grader's own) must encode again, not read them."""
    from server.grading import embedding_cache

    calls = []

    class Encoder:
        def encode_replies(self, texts):
            calls.append(list(texts))
            vecs = [np.ones((len(embedding_cache.sentence_spans(t)), 384), np.float32) for t in texts]
            return None, None, vecs, [np.ones((3, 384), np.float32) for _ in texts]

    cache = embedding_cache.EmbeddingCache(tmp_path, encoder=Encoder())
    replies = ["I see. Tell me more, Dr. Smith."]
    cache.sentence_vectors(replies)
    cache.sentence_vectors(replies)
    assert len(calls) == 1
    monkeypatch.setattr(embedding_cache, "sentence_spans", lambda t: [(0, len(t))])
    assert [len(v) for v in cache.sentence_vectors(replies)] == [1]
    assert len(calls) == 2
