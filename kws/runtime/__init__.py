"""The int8 runtime from Python: the C runtime through ctypes, on the M4 under QEMU, the
reference interpreters, and the test models."""
