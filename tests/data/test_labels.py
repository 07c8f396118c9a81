from __future__ import annotations

import pytest

from biowear.data import LABEL_MAPS, DataConfig, code_kind, make_label_map, prepare, resolve_label_map
from biowear.errors import ConfigError, DataError


def test_presets_are_valid_and_disjoint():
    for name in ("binary", "aami5", "vf"):
        lm = LABEL_MAPS.get(name)
        codes = [c for cls in lm.classes for c in lm.codes[cls]]
        assert len(codes) == len(set(codes))


def test_aami5_follows_ec57():
    lm = resolve_label_map("aami5")
    assert lm.classes == ("N", "S", "V", "F", "Q")
    expected = {
        "N": "N",
        "L": "N",
        "R": "N",
        "e": "N",
        "j": "N",
        "A": "S",
        "a": "S",
        "J": "S",
        "S": "S",
        "V": "V",
        "E": "V",
        "F": "F",
        "/": "Q",
        "f": "Q",
        "Q": "Q",
    }
    for code, cls in expected.items():
        assert lm.classes[lm.beat_class(code)] == cls
    assert lm.beat_class("~") == -1


def test_binary_priority_makes_anomaly_win():
    lm = resolve_label_map("binary")
    assert lm.priority == ("anomaly", "normal")
    assert lm.rank == (1, 0)


def test_custom_mapping_and_episode_codes():
    lm = make_label_map("mine", {"sinus": ["N"], "vent": ["V", "E"], "vt": ["(VT"]})
    assert lm.beat_class("E") == 1 and lm.episode_class("(VT") == 2 and lm.has_episodes


def test_any_beat_code_and_aux_codes_are_accepted():
    lm = make_label_map("folder", {"a": ["N"], "b": ["Z"], "relax": ["aux:Relax"], "vt": ["(VTX"]})
    assert lm.beat_class("Z") == 1 and lm.beat_class("aux:Relax") == -1
    assert lm.episode_class("aux:Relax") == 2 and lm.episode_class("(VTX") == 3
    assert [code_kind(c) for c in ("N", "Z", "(VT", "aux:Relax", "[")] == ["beat", "beat", "rhythm", "aux", "vf"]


def test_non_beat_symbol_cannot_label():
    with pytest.raises(ConfigError, match="'~' is not a beat code.*aux:TEXT"):
        make_label_map("bad", {"a": ["N"], "b": ["~"]})
    with pytest.raises(ConfigError, match="names no aux note"):
        make_label_map("bad", {"a": ["N"], "b": ["aux:"]})


def test_overlapping_mapping_is_refused():
    with pytest.raises(ConfigError, match="mapped to both"):
        make_label_map("bad", {"a": ["N", "V"], "b": ["V"]})


def test_single_class_and_unknown_preset():
    with pytest.raises(ConfigError, match="at least two classes"):
        make_label_map("bad", {"a": ["N"]})
    with pytest.raises(ConfigError, match="valid options are: binary, aami5, vf"):
        resolve_label_map("aami7")


def test_class_without_samples_is_an_error():
    # synthetic records hold no junctional escape beats
    cfg = DataConfig(datasets=("synthetic_ecg",), labels={"normal": ["N"], "junctional": ["j"]}, records=("syn000",))
    with pytest.raises(DataError, match=r"junctional have no samples.*codes of junctional \(j\) never occur.*N \("):
        prepare(cfg, use_cache=False)
