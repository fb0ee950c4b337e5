"""The Cortex-M4 firmware from Python: host build of its portable C, image build, QEMU runs,
footprint and real-time reports."""
