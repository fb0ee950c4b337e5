"""Training: datasets of labelled clips, cached features, DS-CNN training and int8 quantization."""
