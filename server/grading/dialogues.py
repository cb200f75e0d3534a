"""Real doctor-patient dialogues (ACI-BENCH, MTS-Dialog; both CC BY 4.0) as (patient turn,
doctor reply) pairs, addressed by stable ids.

The repository keeps only labels keyed by these ids (`data/real/`); the words are read from
the shared data folder when training or benchmarking, so no dataset text is shipped.

Ids: `aci/<encounter>/<turn>` (ACI-BENCH challenge data, D2N001-D2N207, human transcription)
and `mts/<file>/<ID>/<turn>` (MTS-Dialog; file is train, valid, test1 or test2), where turn is
the index of the doctor's turn in the dialogue; `annomi/<transcript_id>/<utterance_id>` for a
therapist's turn in AnnoMI (the therapist plays the doctor). A dialogue id is the id less its last part;
splits are made by dialogue.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ACI_FILES = ("train", "valid", "clinicalnlp_taskB_test1", "clinicalnlp_taskC_test2", "clef_taskC_test3")
MTS_FILES = {"train": "MTS-Dialog-TrainingSet.csv", "valid": "MTS-Dialog-ValidationSet.csv",
             "test1": "MTS-Dialog-TestSet-1-MEDIQA-Chat-2023.csv", "test2": "MTS-Dialog-TestSet-2-MEDIQA-Sum-2023.csv"}
ATTRIBUTION = ("ACI-BENCH (Yim et al., Scientific Data 2023) and MTS-Dialog (Ben Abacha et al., EACL 2023), "
               "both CC BY 4.0; labels by the Bedside project")

_ACI_TAG = re.compile(r"^\[(\w+)\]\s*", re.M)
_MTS_TAG = re.compile(r"^\s*([A-Za-z][\w ]*?)\s*:\s*", re.M)


@dataclass(frozen=True)
class Turn:
    speaker: str  # "doctor", "patient" or "other" (family, a second clinician)
    text: str


@dataclass(frozen=True)
class Pair:
    id: str
    dialogue: str
    before: tuple[Turn, ...]  # up to three turns before the patient's turn, oldest first
    patient: str
    reply: str


def _speaker(tag: str) -> str:
    t = tag.lower()
    if t.startswith("doctor"):
        return "doctor" if t in ("doctor",) else "other"
    if t.startswith("patient") and "guest" not in t:
        return "patient"
    return "other"


def _split_turns(text: str, tag: re.Pattern[str]) -> list[Turn]:
    marks = list(tag.finditer(text))
    turns = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        words = " ".join(text[m.end():end].split())
        if words:
            turns.append(Turn(_speaker(m.group(1)), words))
    return turns


def _tidy_aci(text: str) -> str:
    """ACI-BENCH spaces its punctuation ("okay , so") and lowercases; undo the spacing only."""
    text = re.sub(r"\s+([,.?!;:])", r"\1", text)
    return re.sub(r"\s+'\s*", "'", text).replace(" n't", "n't")


@lru_cache(maxsize=4)
def load_dialogues(shared: str) -> dict[str, list[Turn]]:
    """Every dialogue, keyed by dialogue id. Raises FileNotFoundError naming what is missing."""
    root = Path(shared)
    out: dict[str, list[Turn]] = {}
    aci = root / "aci-bench" / "data" / "challenge_data"
    mts = root / "mts-dialog" / "Main-Dataset"
    if not aci.is_dir() or not mts.is_dir():
        raise FileNotFoundError(f"{root} has no aci-bench/data/challenge_data or mts-dialog/Main-Dataset")
    csv.field_size_limit(1 << 30)
    for name in ACI_FILES:
        with open(aci / f"{name}.csv", newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                turns = _split_turns(row["dialogue"], _ACI_TAG)
                out[f"aci/{row['encounter_id']}"] = [Turn(t.speaker, _tidy_aci(t.text)) for t in turns]
    for short, fname in MTS_FILES.items():
        with open(mts / fname, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                out[f"mts/{short}/{row['ID']}"] = _split_turns(row["dialogue"], _MTS_TAG)
    return out


def dialogue_of(pair_id: str) -> str:
    return pair_id.rsplit("/", 1)[0]


def all_pairs(shared: str) -> list[Pair]:
    """Every doctor turn that directly follows a patient turn."""
    out = []
    for did, turns in load_dialogues(shared).items():
        for i in range(1, len(turns)):
            if turns[i].speaker == "doctor" and turns[i - 1].speaker == "patient":
                out.append(Pair(f"{did}/{i}", did, tuple(turns[max(0, i - 4):i - 1]), turns[i - 1].text, turns[i].text))
    return out


def pairs_by_id(shared: str, ids: list[str]) -> dict[str, Pair]:
    """The pairs for these ids; an id that does not resolve to a patient turn then a doctor turn
    raises KeyError naming it (the shared data changed under the labels)."""
    dialogues = load_dialogues(shared)
    annomi = {p.id: p for p in annomi_pairs(shared)} if any(i.startswith("annomi/") for i in ids) else {}
    out = {}
    for pid in ids:
        if pid.startswith("annomi/"):
            if pid not in annomi:
                raise KeyError(f"label id {pid} does not resolve to a client turn and a therapist reply in {shared}")
            out[pid] = annomi[pid]
            continue
        did, _, idx = pid.rpartition("/")
        turns = dialogues.get(did)
        i = int(idx)
        if turns is None or not (0 < i < len(turns)) or turns[i].speaker != "doctor" or turns[i - 1].speaker != "patient":
            raise KeyError(f"label id {pid} does not resolve to a patient turn and a doctor reply in {shared}")
        out[pid] = Pair(pid, did, tuple(turns[max(0, i - 4):i - 1]), turns[i - 1].text, turns[i].text)
    return out


@lru_cache(maxsize=4)
def load_annomi(shared: str) -> dict[str, list[tuple[str, Turn]]]:
    """AnnoMI sessions keyed `annomi/<transcript_id>`: (utterance id, turn) in order; the
    therapist is the "doctor". Raises FileNotFoundError when the file is missing."""
    path = Path(shared) / "annomi" / "AnnoMI-simple.csv"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing")
    out: dict[str, list[tuple[str, Turn]]] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            who = "doctor" if row["interlocutor"] == "therapist" else "patient"
            out.setdefault(f"annomi/{row['transcript_id']}", []).append((row["utterance_id"], Turn(who, " ".join(row["utterance_text"].split()))))
    return out


def annomi_pairs(shared: str) -> list[Pair]:
    """Every therapist turn that directly follows a client turn; id `annomi/<transcript>/<utterance id>`."""
    out = []
    for did, items in load_annomi(shared).items():
        for i in range(1, len(items)):
            (uid, t), (_, prev) = items[i], items[i - 1]
            if t.speaker == "doctor" and prev.speaker == "patient" and t.text and prev.text:
                before = tuple(x for _, x in items[max(0, i - 4):i - 1])
                out.append(Pair(f"{did}/{uid}", did, before, prev.text, t.text))
    return out


def earlier_by_id(shared: str, ids: list[str], turns: int = 8) -> dict[str, str]:
    """What the patient said before each pair's patient turn, as the engine passes it in a
    session (`GradeContext.earlier`): their first turn and up to `turns` most recent ones, so a
    benchmark grades a real reply with the context the product has."""
    dialogues = load_dialogues(shared) if any(not i.startswith("annomi/") for i in ids) else {}
    annomi = load_annomi(shared) if any(i.startswith("annomi/") for i in ids) else {}
    out = {}
    for pid in ids:
        did, _, last = pid.rpartition("/")
        if pid.startswith("annomi/"):
            items = annomi[did]
            i = next(n for n, (uid, _) in enumerate(items) if uid == last)
            before = [t for _, t in items[:i - 1]]
        else:
            before = dialogues[did][:int(last) - 1]
        said = [t.text for t in before if t.speaker == "patient" and t.text]
        keep = said[:1] + said[1:][-turns:]
        out[pid] = " ".join(keep)
    return out
