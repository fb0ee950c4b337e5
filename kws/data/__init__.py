"""Datasets: manifests, the synthetic corpus, Speech Commands, augmentation."""
