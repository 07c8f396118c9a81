"""The classical and small neural classifiers of the BiomedBench applications, as counted NumPy inference
kernels: SVM, random forest, MLP, KNN and random projection (``shallow``), the seizure FCN (``eeg_fcn``), the
neuro-fuzzy classifier (``nfc``) and backpropagation-free block training (``bpfree``)."""
