"""Datasets: manifests, the synthetic corpus, Speech Commands, augmentation, test streams.

- :mod:`kws.data.manifest`: the dataset folder contract (``manifest.csv``).
- :mod:`kws.data.dataset`: checking a dataset (bad files skipped with a warning, too few is an
  error).
- :mod:`kws.data.tts` and :mod:`kws.data.synth`: the offline synthetic corpus.
- :mod:`kws.data.speech_commands`: download, splits and classes of Speech Commands.
- :mod:`kws.data.augment`: training-time augmentation and the noise sources.
- :mod:`kws.data.labelled_stream`: long test streams with an events file.
"""
