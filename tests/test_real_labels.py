"""The real-dialogue labels, and the experiment data made from them, keep the frozen split frozen.

No shared data is needed: the files hold ids and labels (and, for counterfactuals, the
project's own replies), and the split is a function of the dialogue id.
"""

from __future__ import annotations

import json
from collections import Counter
from types import SimpleNamespace

from eval.labelling.select_real import split_of
from server.config import REPO_ROOT
from server.grading.data_sources import REAL_DIR, RealLabel

LABELS = REAL_DIR / "labels.jsonl"
EXPERIMENT = REPO_ROOT / "eval" / "experiments" / "counterfactuals"
COUNTERFACTUALS = EXPERIMENT / "replies.jsonl"


def _labels(path=LABELS) -> list[RealLabel]:
    return [RealLabel.model_validate_json(line) for line in path.read_text().splitlines() if line.strip()]


def test_every_label_sits_on_its_dialogues_side_of_the_split():
    labels = _labels()
    assert len({l.id for l in labels}) == len(labels), "an id is labelled twice"
    wrong = [l.id for l in labels if l.split != split_of(l.id.rsplit("/", 1)[0])]
    assert not wrong, wrong[:5]


def test_an_opportunity_has_a_level_and_none_has_no_level():
    for l in _labels():
        if l.usable:
            assert (l.eccs is None) == (l.opportunity == "none"), l.id


def test_the_frozen_test_split_is_unchanged():
    """410 test opportunities were labelled before any model ran on them; later labelling
    rounds only ever add train-side items."""
    test = [l for l in _labels() if l.split == "test" and l.usable]
    assert len(test) == 1380 and sum(l.eccs is not None for l in test) == 410


def test_the_later_annomi_labels_are_train_side_and_new():
    first = {l.id for l in _labels()}
    more = _labels(EXPERIMENT / "annomi_labels_FG.jsonl")
    assert more and all(l.id.startswith("annomi/") and l.id not in first for l in more)
    assert all(l.split == "train" == split_of(l.id.rsplit("/", 1)[0]) for l in more)


def test_counterfactuals_come_only_from_train_side_opportunities():
    labels = {l.id: l for l in [*_labels(), *_labels(EXPERIMENT / "annomi_labels_FG.jsonl")]}
    items = [SimpleNamespace(**json.loads(line)) for line in COUNTERFACTUALS.read_text().splitlines() if line.strip()]
    assert items
    for c in items:
        source = labels.get(c.source)
        assert source is not None, f"{c.source}: a counterfactual's source must be a labelled item"
        assert source.split == "train" and source.eccs is not None, c.source
        assert c.eccs != source.eccs, f"{c.source}: a counterfactual is written at another level than the real reply"
        assert c.opportunity == source.opportunity and c.emotion == source.emotion, c.source
        assert 0 <= c.eccs <= 6 and (c.space == "provides") == (c.eccs >= 3), c.source
    assert len({(c.source, c.k) for c in items}) == len(items)
    assert len({c.reply.lower() for c in items}) > 0.98 * len(items), "counterfactual replies repeat each other"


def test_counterfactuals_cover_the_levels_the_real_data_lacks():
    levels = Counter(json.loads(line)["eccs"] for line in COUNTERFACTUALS.read_text().splitlines() if line.strip())
    assert all(levels[k] >= 100 for k in (0, 1, 4, 5)), levels
