from __future__ import annotations

import numpy as np
import pytest

from biowear.data import Annotations, WindowConfig, make_label_map, resolve_label_map
from biowear.data.windows import beat_windows, episode_mask, fixed_windows
from biowear.errors import ConfigError


def ann(samples, symbols, aux=None):
    return Annotations(np.asarray(samples, dtype=np.int64), tuple(symbols), tuple(aux or [""] * len(symbols)))


BINARY = resolve_label_map("binary")


def test_fixed_windows_priority_rule():
    a = ann([10, 50, 120, 130, 200], ["N", "V", "N", "N", "~"])
    w = fixed_windows(a, 256, BINARY, WindowConfig(window_samples=64))
    # windows [0,64): N,V -> anomaly; [64,128): N -> normal; [128,192): N -> normal; [192,256): only '~' -> dropped
    assert w.starts.tolist() == [0, 64, 128]
    assert w.labels.tolist() == [1, 0, 0]


def test_fixed_windows_majority_and_centre_rules():
    a = ann([5, 20, 40, 60], ["N", "N", "V", "N"])
    maj = fixed_windows(a, 64, BINARY, WindowConfig(window_samples=64, rule="majority"))
    cen = fixed_windows(a, 64, BINARY, WindowConfig(window_samples=64, rule="centre"))
    assert maj.labels.tolist() == [0]
    assert cen.labels.tolist() == [1]  # sample 40 is nearest to the centre 32


def test_stride_gives_overlapping_windows():
    a = ann([30], ["V"])
    w = fixed_windows(a, 128, BINARY, WindowConfig(window_samples=64, stride_samples=16))
    assert w.starts.tolist() == [0, 16]  # only windows containing sample 30


def test_beat_windows_centre_on_beats_and_skip_edges():
    a = ann([5, 100, 200, 250], ["N", "V", "N", "N"])
    w = beat_windows(a, 260, BINARY, WindowConfig(kind="beat", window_samples=50, before_fraction=0.4))
    assert w.starts.tolist() == [80, 180]  # beats at 5 and 250 do not fit
    assert w.labels.tolist() == [1, 0]


def test_episode_mask_brackets_and_rhythm_changes():
    vf = resolve_label_map("vf")
    a = ann([10, 100, 150, 300, 400], ["N", "[", "]", "+", "+"], ["", "", "", "(VFL", "(N"])
    mask = episode_mask(a, vf, 500)
    assert (mask[100:151] == 2).all() and (mask[300:400] == 2).all()
    assert (mask[:100] == -1).all() and (mask[151:300] == -1).all() and (mask[400:] == -1).all()


def test_episode_overrides_beats_and_beats_can_be_disabled():
    vf = resolve_label_map("vf")
    a = ann([0, 10, 60, 200], ["[", "N", "N", "]"])
    w = fixed_windows(a, 256, vf, WindowConfig(window_samples=64))
    assert w.labels.tolist() == [2, 2, 2]  # [0,64) [64,128) [128,192) inside the episode
    no_beats = fixed_windows(ann([10, 100], ["N", "V"]), 128, vf, WindowConfig(window_samples=64), use_beats=False)
    assert len(no_beats.starts) == 0


def test_rhythm_class_from_custom_map():
    lm = make_label_map("vt", {"other": ["N"], "vt": ["(VT"]})
    a = ann([0, 64, 70], ["+", "+", "N"], ["(VT", "(N", ""])
    w = fixed_windows(a, 128, lm, WindowConfig(window_samples=64))
    assert w.labels.tolist() == [1, 0]


@pytest.mark.parametrize(
    "kwargs",
    [{"kind": "sliding"}, {"rule": "mode"}, {"window_samples": 2}, {"before_fraction": 1.5}, {"stride_samples": 0}],
)
def test_bad_window_config(kwargs):
    with pytest.raises(ConfigError):
        WindowConfig(**kwargs)


def test_kachuee_beats_scale_pad_and_cut():
    from biowear.data.windows import kachuee_beats

    fs, n = 125.0, 2500  # two 10 s segments
    t = np.arange(n)
    signal = (np.sin(t / 7.0) * (1 + t / n))[:, None].astype(np.float32)
    beats = [100, 200, 300, 400, 1300, 1330, 1360, 1390]  # RR 100 in segment 1, 30 in segment 2
    a = ann(beats, ["N", "V", "N", "N", "N", "N", "A", "N"])
    x, y = kachuee_beats(signal, a, resolve_label_map("aami5"), fs, length=187)
    assert x.shape == (8, 1, 187) and y.tolist() == [0, 2, 0, 0, 0, 0, 1, 0]
    assert x.min() >= 0 and x.max() <= 1
    assert np.count_nonzero(x[1, 0, 120:]) == 0 and np.count_nonzero(x[1, 0, :120]) > 100  # 1.2 x 100 samples
    assert np.count_nonzero(x[5, 0, 36:]) == 0  # 1.2 x 30 samples, then zero padding
    seg = signal[:1250, 0]
    assert np.allclose(x[1, 0, :120], (seg[200:320] - seg.min()) / (seg.max() - seg.min()), atol=1e-6)
