"""The trained grader: small linear heads over MiniLM, rule and TF-IDF features.

Rules still decide what they are reliable for (which feeling was named, the question type,
the voice pipeline's `interrupted`); the heads decide the judgement calls (ECCS level, NURSE
types, flags, space, EPITOME). The raw prediction then passes through the coding manuals'
constraints, and feedback is written from the final fields.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .artefact import Artefact
from .base import ALL_NURSE, TEXT_FLAGS, Confidence, Epitome, Grade, GradeContext, Grader
from .constraints import constrain
from .data_sources import MECHANISMS
from .pair_model import SPACE_CLASSES, PairModel, decide_level
from .phrases import STORY_INVITE, SUMMARY, content_stems, is_courtesy, is_plan_or_summary, stem_overlap
from .encoder import TextEncoder
from .epitome_heads import epitome_probabilities
from .features import RULE_NAMES, dense_block, rule_vector
from .ngram_tfidf import load_tfidf
from .rules import rule_signals


# Phrase rules precise enough on the seed set (>= 94% of their hits are labelled so, outside
# dismissals and the like) to add a NURSE type the head missed; the seed set has few plain
# "I can understand why..." statements for a head to learn from.
RULE_NURSE = {"understand": ("legitimise", "understand"), "respect": ("respect",), "explore": ("explore",),
              "support": ("support",)}
RULE_NURSE_BLOCKED_BY = frozenset({"dismissive", "topic_switch", "assumption_or_stereotype", "false_understanding"})
# What counts as picking up the feeling (ECCS 3+): an acknowledgment the rules or the NURSE heads
# see, a named feeling, a question that takes up the patient's own words, or an invitation to say
# more about feelings or worries (a continuer is ECCS 3 in the seed rules).
ACK_SIGNALS = ("acknowledges", "legitimise", "shared", "ack_generic", "understand", "respect", "support")
RULE_CONFIDENCE = 0.9  # a precise phrase rule's hit (>= 89% right on the seed train split)
EXPLORING_IS_NOT = ("premature_reassurance", "advice_before_exploring", "dismissive")
OWN_WORDS = 0.1  # share of the patient's content words a question takes up to be "on their own complaint"
ECCS_CAPS = {"dismissive": 0, "topic_switch": 1, "sympathy_only": 2, "false_understanding": 2, "assumption_or_stereotype": 2}


def takes_up_complaint(text: str, ctx: GradeContext, s: dict) -> bool:
    """A question, summary or invitation on the patient's own complaint or context (ECCS 2 by the
    conventions, never a topic switch): it takes up enough of the patient's last words, or a
    content word of what they said earlier, or asks about the symptom itself, or invites their
    story, or sums up what they said."""
    low = text.lower()
    earlier = bool(ctx.earlier) and bool(content_stems(low) & content_stems(ctx.earlier))
    own = bool(ctx.patient_turn) and stem_overlap(low, ctx.patient_turn) >= OWN_WORDS
    asks = s["qtype"] != "none" and (own or earlier or s["symptom_question"])
    return asks or bool(STORY_INVITE.search(low)) or bool(SUMMARY.search(low))


ACK_IS_NOT = ("dismissive", "premature_reassurance", "sympathy_only")


def convention_levels(eccs: int, flags: list[str], s: dict, ruled: dict, cap_of, own: bool) -> tuple[int, list[str]]:
    """The labelling conventions (data/real/README.md) that the phrase rules see precisely,
    applied over the pair model's level: legitimising the feeling is 5; a question about the
    feeling or worry itself is 4; a specific acknowledgment ("that must be hard"), a continuer and
    NURSE respect are at least 3; a question that takes up the patient's own words, or asks about
    the presenting symptom itself, is at least 2 and not a topic switch; a checklist question past
    a feeling the patient voiced is a topic switch; a topic switch is 0, or 1 with a token first,
    and a level above 1 overrules the switch; pity with a move to the doctor's agenda is at most 2;
    closing the visit ("come back if it gets worse; is that all?") with no acknowledgment is at most 1.

    Each rule was kept or dropped in 3-fold CV on the real train split (docs/grading.md has the
    table): broader rules (any question is on the complaint, any checklist question is a switch, a
    bare "I understand" acknowledges) cost more than they gave."""
    flags = list(flags)
    blocking = {"sympathy_only", "false_understanding", "dismissive", "assumption_or_stereotype"}
    no_switch = lambda fl: [f for f in fl if f != "topic_switch"]
    if s["legitimise"] and not ruled.get("dismissive") and not set(flags) & blocking:
        return max(eccs, min(5, cap_of(flags))), no_switch(flags)
    if s["feeling_question"] and not ruled.get("dismissive"):
        # asking about the worry explores it: not a switch, and not reassurance or advice before exploring
        flags = [f for f in no_switch(flags) if f not in EXPLORING_IS_NOT or ruled.get(f)]
        return max(eccs, min(4, cap_of(flags))), flags
    if s["ack_generic"] and not s["redirect"]:
        # a specific acknowledgment ("this must be a huge shock") is not dismissing, pity or
        # reassurance: the pair model's guess of those stands only when a phrase rule sees one
        flags = [f for f in flags if f not in ACK_IS_NOT or ruled.get(f)]
    if (s["ack_generic"] or s["continuer"] or s["respect"]) and not set(flags) & blocking and not ruled.get("dismissive") \
            and not s["redirect"]:
        flags = no_switch(flags)
        eccs = max(eccs, min(3, cap_of(flags)))
    if own and not ruled.get("dismissive"):
        flags = [f for f in flags if f != "dismissive"]  # taking up the complaint is not dismissing it
    if own and not set(flags) & blocking:
        flags = no_switch(flags)
        eccs = max(eccs, min(2, cap_of(flags)))
    elif s["checklist"] and s["qtype"] != "none" and not s["acknowledges"] and s["overlap"] == 0 and eccs <= 2 \
            and s["patient_voiced"] and "topic_switch" not in flags:
        flags.append("topic_switch")  # a routine checklist question past a feeling the patient put into words
        eccs = min(eccs, 1)
    if eccs == 4 and s["qtype"] == "none" and not s["explore"]:
        eccs = 3  # pursuit needs a question or an invitation
    if "topic_switch" in flags:
        if eccs <= 1:
            eccs = 1 if s["perfunctory"] else 0
        else:
            flags.remove("topic_switch")
    if s["sympathy"] and s["redirect"] and not (s["legitimise"] or s["name"] or s["explore"]):
        eccs = min(eccs, 2)
    if s["closing"] and not (s["acknowledges"] or s["feeling_question"] or s["continuer"]):
        eccs = min(eccs, 1)  # "Come back if it gets worse. Is that all?" closes the visit on the feeling
    return eccs, flags


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max()
    e = np.exp(z)
    return e / e.sum()


class TrainedGrader(Grader):
    embedder_name = "all-MiniLM-L6-v2"

    def __init__(self, model_dir: Path | None = None, encoder: TextEncoder | None = None, runtime: str = "onnx"):
        """`runtime`: "onnx" runs a live turn's two MiniLM passes on ONNX Runtime (half the time,
        the same numbers to float rounding; `core.onnx_graphs`), "torch" in PyTorch."""
        from ..core.onnx_graphs import choose_runtime
        runtime = choose_runtime(runtime, "grader")
        self.runtime = runtime
        self.artefact = Artefact.load(model_dir)
        meta = self.artefact.meta
        if list(meta.rule_names) != list(RULE_NAMES):
            raise ValueError("the artefact was trained with other rule features; retrain with `bedside grade train`")
        self.version = self.artefact.version
        self.encoder = encoder or TextEncoder()
        self.tfidf = load_tfidf(self.artefact.arrays, meta.vocab)
        if runtime == "onnx":
            from ..core.onnx_graphs import minilm_pass
            self.encoder.fast = minilm_pass(self.encoder.model)
        self._replies: OrderedDict[tuple[str, str], tuple[np.ndarray, ...]] = OrderedDict()
        self._prefetcher = ThreadPoolExecutor(1, thread_name_prefix="grader-prefetch")
        self._prefetching: OrderedDict[str, Future] = OrderedDict()
        self._prefetch_lock = threading.Lock()  # sessions run on several threads
        self._pair_readings: OrderedDict[tuple[str, str], Future] = OrderedDict()
        self.pair = None
        if meta.pair and "pair.head.W" in self.artefact.arrays:
            self.pair = PairModel(self.artefact.arrays, meta.pair["flags"], meta.pair["nurse"], self.encoder.embedder,
                                  onnx=runtime == "onnx")
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="pair-grader")

    # -------------------------------------------------------------- encoding

    def _encode(self, text: str, context: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Reply, sentence-max reply, patient turn, the reply's sentence vectors and token states
        (layer SENT_LAYER); the last few turns are kept, so the engine's
        retrieval and a second grading of the same turn cost no forward pass."""
        key = (text, context)
        hit = self._replies.get(key)
        if hit is None:
            hit = self.encoder.turn(text, context)
            self._replies[key] = hit
            if len(self._replies) > 16:
                self._replies.popitem(last=False)
        return hit

    def reply_vector(self, text: str, context: str = "") -> np.ndarray:
        """The reply's MiniLM embedding, for the engine's retrieval: the grader needs the reply's
        token states anyway, so one forward pass serves both. The engine asks for it before it
        grades, so the pair model's pass starts here, on the other core, beside this one."""
        self._pair_reading(context, text)
        self._await_prefetch(context)
        return self._encode(text, context)[0]

    def _pair_reading(self, patient_turn: str, text: str) -> Future | None:
        """The pair model's reading of (patient turn, reply), started once on the pair thread and
        kept for the few grades of the same turn (the engine grades a turn twice when it may be a
        late answer to an earlier cue)."""
        if self.pair is None:
            return None
        key = (patient_turn, text)
        with self._prefetch_lock:
            pending = self._pair_readings.get(key)
            if pending is None:
                pending = self._pair_readings[key] = self._pool.submit(self._read_pair, patient_turn, text)
                while len(self._pair_readings) > 8:
                    self._pair_readings.popitem(last=False)
        return pending

    def _read_pair(self, patient_turn: str, text: str) -> dict[str, np.ndarray]:
        self._await_prefetch(patient_turn)
        return self.pair.predict([patient_turn], [text])[0]

    def prefetch(self, patient_turn: str) -> None:
        """Encode the patient's words when they are said, so the learner's reply is graded
        without waiting for them. It runs on a background thread: the turn that said the words
        returns at once, and a grade against them waits for this work rather than repeating it."""
        if not patient_turn.strip():
            return
        with self._prefetch_lock:
            self._prefetching[patient_turn] = self._prefetcher.submit(self._encode_patient, patient_turn)
            while len(self._prefetching) > 16:
                self._prefetching.popitem(last=False)

    def _encode_patient(self, patient_turn: str) -> None:
        self.encoder.context(patient_turn)
        if self.pair is not None:
            self.pair.prefetch(patient_turn)

    def _await_prefetch(self, patient_turn: str) -> None:
        """Wait for a background encoding of these words, if one was started; a failed one is
        ignored (the grade encodes the words itself)."""
        with self._prefetch_lock:
            pending = self._prefetching.get(patient_turn)
        if pending is not None:
            try:
                pending.result()
            except Exception:  # noqa: BLE001 - the grade does the work again
                pass

    def grade_many(self, pairs: list[tuple[str, GradeContext]]) -> list[Grade]:
        """Grade a batch (`bedside grade --in`): replies and patient turns are encoded in padded
        batches of 32, which costs far less per turn than one forward pass each. Batches are cut
        in input order, so the same file always gives the same grades."""
        replies = [text for text, _ in pairs]
        whole, maxed, sents, toks = self.encoder.encode_replies(replies, threads=self.encoder.offline_threads)
        contexts = list(dict.fromkeys(c.patient_turn for _, c in pairs if c.patient_turn.strip()))
        vectors = dict(zip(contexts, self.encoder.encode(contexts, threads=self.encoder.offline_threads))) if contexts else {}
        out = []
        for i, (text, ctx) in enumerate(pairs):
            key = (text, ctx.patient_turn)
            self._replies[key] = (whole[i], maxed[i], vectors.get(ctx.patient_turn, np.zeros_like(whole[i])), sents[i], toks[i])
            out.append(self.grade(text, ctx))
            self._replies.pop(key, None)
        return out

    # -------------------------------------------------------------- heads

    def _probs(self, name: str, x: np.ndarray) -> np.ndarray:
        W, b = self.artefact.head(name)
        z = W @ x + b
        if W.shape[0] == 1:  # binary: P(class 1)
            p1 = 1.0 / (1.0 + np.exp(-z[0]))
            return np.array([1.0 - p1, p1])
        return _softmax(z)

    def probabilities(self, text: str, ctx: GradeContext, *, seed_heads: bool = True) -> dict[str, np.ndarray]:
        """Every head's class probabilities for one turn (without the seed-set heads when
        `seed_heads` is false: the pair model replaces them)."""
        whole, maxed, context, sent_vecs, tokens = self._encode(text, ctx.patient_turn)
        dense = np.concatenate([dense_block(whole, maxed, context), rule_vector(text, ctx)])
        heads = self.artefact.meta.heads
        out: dict[str, np.ndarray] = {}
        if "epitome" in self.tfidf:
            lex = self.tfidf["epitome"].transform([text])[0]
            for m in MECHANISMS:
                if f"epitome_{m}" in heads:
                    out[f"epitome_{m}"] = epitome_probabilities(self.artefact.arrays, self.tfidf, m, text, ctx.patient_turn, lex, dense,
                                                                sent_vecs, tokens)
        if not seed_heads:
            return out
        lex = self.tfidf["seed"].transform([text])[0]
        plain = np.concatenate([dense, lex])
        for name, h in heads.items():
            if h.block != "seed":
                continue
            x = np.concatenate([dense, *[out[s] for s in h.stack], lex]) if h.stack else plain
            out[name] = self._probs(name, x)
        return out

    # -------------------------------------------------------------- the grade

    def _epitome(self, p: dict[str, np.ndarray]) -> Epitome:
        """The EPITOME-dev heads' decision (what the EPITOME cross-validation scores); the seed
        set's mechanism heads only when the artefact was trained without EPITOME-dev."""
        meta = self.artefact.meta.heads
        if all(f"epitome_{m}" in p for m in MECHANISMS):
            return Epitome(**{m: int(np.argmax(p[f"epitome_{m}"])) for m in MECHANISMS})
        return Epitome(**{m: int(meta[f"ep_{m}"].classes[int(np.argmax(p[f"ep_{m}"]))]) for m in MECHANISMS})

    def grade(self, text: str, ctx: GradeContext) -> Grade:
        self._await_prefetch(ctx.patient_turn)
        if self.pair is not None:
            return self._grade_pair(text, ctx)
        p = self.probabilities(text, ctx)
        meta = self.artefact.meta.heads
        s = rule_signals(text, ctx)
        flags = [f for f in TEXT_FLAGS if f"flag_{f}" in p and p[f"flag_{f}"][1] >= meta[f"flag_{f}"].threshold]
        # phrase rules right on >= 89% of their hits in the seed train split: a hit stands even
        # when the head, which saw few such wordings, says no
        ruled = {"false_understanding": s["false_understanding"], "dismissive": s["dismissive"], "jargon": s["jargon"],
                 "assumption_or_stereotype": s["stereotype"],
                 "premature_reassurance": s["reassure"] and not ctx.explored_before}
        flags += [f for f, hit in ruled.items() if hit and f not in flags]
        nurse = [t for t in ALL_NURSE if t != "name" and p[f"nurse_{t}"][1] >= meta[f"nurse_{t}"].threshold]
        named = s["named"][0][1] if s["named"] else None

        eccs = None
        if ctx.opportunity_id:
            probs = p["eccs"]
            levels = [int(c) for c in meta["eccs"].classes]
            low = sum(q for lv, q in zip(levels, probs) if lv <= 1)
            if "topic_switch" in flags and p["flag_topic_switch"][1] < 1.0 - low and low < 0.5:
                flags.remove("topic_switch")  # the level head is surer the opening was taken up
            if "dismissive" in flags and not s["dismissive"] and low < 0.5:
                # a dismissal is ECCS 0; the dismissive head alone (precision about 0.3 on held-out
                # rows) does not overrule a level head that says the feeling was taken up
                flags.remove("dismissive")
            cap = min([ECCS_CAPS[f] for f in flags if f in ECCS_CAPS] + [6])
            if "premature_reassurance" in flags and "explore" not in nurse:
                cap = min(cap, 2)
            picked_up = named is not None or any(s[k] for k in ACK_SIGNALS) or bool(set(nurse) & {"understand", "respect", "support"}) \
                or s["overlap"] > 0 or s["explore"]
            if not picked_up:
                cap = min(cap, 2)  # ECCS 3+ acknowledges or pursues *this* patient's feeling or worry
            allowed = [(q, lv) for lv, q in zip(levels, probs) if lv <= cap]
            eccs = max(allowed)[1]
        else:
            flags = [f for f in flags if f != "topic_switch"]

        if not RULE_NURSE_BLOCKED_BY & set(flags):
            nurse += [t for t, keys in RULE_NURSE.items() if t not in nurse and any(s[k] for k in keys)]

        space_classes = meta["space"].classes
        raw = Grade(
            grader_version=self.version,
            eccs=eccs,
            nurse=nurse,
            flags=flags,
            epitome=self._epitome(p),
            space=space_classes[int(np.argmax(p["space"]))],
            question_type=s["qtype"],
            named_emotion=named,
        )
        return constrain(raw, ctx, courtesy=is_courtesy(text), plan=is_plan_or_summary(text))

    def _grade_pair(self, text: str, ctx: GradeContext) -> Grade:
        """ECCS, NURSE, flags and space from the pair model (it reads the patient's turn and the
        reply together); EPITOME from the EPITOME-dev heads; the named feeling, question type and
        the precise phrase rules as in `grade`."""
        # on the other core, beside the reply's own pass: the pair model runs the reply through the
        # bottom layers itself (measured: sharing the reply pass's states instead, in sequence,
        # took the in-session p50 from 20.7 to 25.3 ms)
        pending = self._pair_reading(ctx.patient_turn, text)
        p = self.probabilities(text, ctx, seed_heads=False)
        q = pending.result()
        pm = self.artefact.meta.pair
        thr = pm["thresholds"]
        s = rule_signals(text, ctx)
        flag_p = dict(zip(self.pair.flags, q["flags"].tolist()))
        flags = [f for f in self.pair.flags if flag_p[f] >= thr[f"flag_{f}"]]
        ruled = {"false_understanding": s["false_understanding"], "dismissive": s["dismissive"], "jargon": s["jargon"],
                 "assumption_or_stereotype": s["stereotype"],
                 "premature_reassurance": s["reassure"] and not ctx.explored_before}
        if s["legitimise"] or s["feeling_question"] or s["respect"]:
            # validating or asking about the feeling, and an apology that owns a failure, are not
            # reassurance, advice or a dismissal, unless a phrase rule sees one
            flags = [f for f in flags if f not in EXPLORING_IS_NOT or ruled.get(f)]
        flags += [f for f, hit in ruled.items() if hit and f not in flags]
        conf_flags = {f: round(max(flag_p[f], RULE_CONFIDENCE) if (f in flags and ruled.get(f)) else
                               flag_p[f] if f in flags else 1.0 - flag_p[f], 3) for f in self.pair.flags}
        nurse = [t for t, pr in zip(self.pair.nurse, q["nurse"]) if t != "name" and pr >= thr[f"nurse_{t}"]]
        named = s["named"][0][1] if s["named"] else None
        eccs, conf_eccs = None, None
        if ctx.opportunity_id:
            levels = q["eccs"]
            cap_of = lambda fl: min([ECCS_CAPS[f] for f in fl if f in ECCS_CAPS] + [6]
                                    + ([2] if "premature_reassurance" in fl and "explore" not in nurse else []))
            cap = cap_of(flags)
            allowed = levels[:cap + 1] / max(levels[:cap + 1].sum(), 1e-9)
            eccs = int(decide_level(allowed, pm.get("eccs_rule", "argmax"), pm.get("eccs_cuts")))
            eccs, flags = convention_levels(eccs, flags, s, ruled, cap_of, takes_up_complaint(text, ctx, s))
            # the level's share of the probability on the levels the final flags allow
            conf_eccs = round(min(1.0, float(levels[eccs] / max(levels[:max(cap_of(flags), eccs) + 1].sum(), 1e-9))), 3)
        else:
            flags = [f for f in flags if f != "topic_switch"]
        if not RULE_NURSE_BLOCKED_BY & set(flags):
            nurse += [t for t, keys in RULE_NURSE.items() if t not in nurse and any(s[k] for k in keys)]
        raw = Grade(grader_version=self.version, eccs=eccs, nurse=nurse, flags=flags, epitome=self._epitome(p),
                    space=self.pair_space(q["space"]), question_type=s["qtype"], named_emotion=named,
                    confidence=Confidence(eccs=conf_eccs, flags=conf_flags))
        return constrain(raw, ctx, courtesy=is_courtesy(text), plan=is_plan_or_summary(text))

    @staticmethod
    def pair_space(probs: np.ndarray) -> str:
        return SPACE_CLASSES[int(np.argmax(probs))]
