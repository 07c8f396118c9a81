"""The eight BiomedBench applications, by name."""

from __future__ import annotations

from biowear.bench.app import App
from biowear.bench.apps.bpfree import BioBPfree
from biowear.bench.apps.cough import CoughDet
from biowear.bench.apps.emotion import EmotionClass
from biowear.bench.apps.gesture import GestureClass
from biowear.bench.apps.heartbeat import HeartBeatClass
from biowear.bench.apps.seizure_cnn import SeizureDetCNN
from biowear.bench.apps.seizure_svm import SeizureDetSVM
from biowear.bench.apps.workload import CognWorkMon
from biowear.registry import Registry

APPS: Registry[type[App]] = Registry("BiomedBench application")
for _cls in (
    HeartBeatClass,
    SeizureDetSVM,
    SeizureDetCNN,
    CognWorkMon,
    GestureClass,
    CoughDet,
    EmotionClass,
    BioBPfree,
):
    APPS.register(_cls.info.name, _cls)

__all__ = ["APPS"]
